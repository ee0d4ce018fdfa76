//! The state machine's table, pair by pair, written out independently of
//! [`next`] so a change to either shows up here.

use super::*;
use crate::pay::verify::Verified;
use OrderStatus as S;

fn evidence() -> Evidence {
    Evidence::of("query", &Verified::for_tests((), "PUB_KEY_ID_TEST"), None)
}

fn order(status: OrderStatus) -> Order {
    Order {
        out_trade_no: "WX20240101000000abcdefabcdef".into(),
        openid: "oUser".into(),
        appid: "wx1".into(),
        mchid: "1900000001".into(),
        sku: "latte".into(),
        quantity: 1,
        description: "拿铁".into(),
        total_fen: 1800,
        created_at: 1_000,
        time_expire: 8_200,
        status,
        prepay_id: None,
        transaction_id: None,
        paid_at: None,
        refund: None,
        notifications: vec![],
        history: vec![],
    }
}

/// `M(x)`: moves to x; `=`: stays (idempotent); `x`: refused. Columns in
/// the order of [`Event::samples`]: prepaid, paid, closed, expired,
/// refund_accepted, refunded, refund_closed, refund_abnormal.
fn expected(from: OrderStatus) -> [Step; 8] {
    use Step::{Move as M, Refuse as X, Stay as E};
    match from {
        S::Created => [
            M(S::Prepaid),
            M(S::Paid),
            M(S::Closed),
            M(S::Expired),
            X,
            X,
            X,
            X,
        ],
        S::Prepaid => [E, M(S::Paid), M(S::Closed), M(S::Expired), X, X, X, X],
        S::Paid => [X, E, X, X, M(S::Refunding), X, X, X],
        S::Closed => [X, M(S::Paid), E, E, X, X, X, X],
        S::Expired => [X, M(S::Paid), E, E, X, X, X, X],
        S::Refunding => [
            X,
            E,
            X,
            X,
            E,
            M(S::Refunded),
            M(S::RefundClosed),
            M(S::RefundAbnormal),
        ],
        S::Refunded => [X, E, X, X, X, E, X, X],
        S::RefundClosed => [X, E, X, X, M(S::Refunding), X, E, X],
        S::RefundAbnormal => [X, E, X, X, X, M(S::Refunded), X, E],
    }
}

#[test]
fn every_pair_of_status_and_event() {
    let events = Event::samples();
    let mut moves = 0;
    let mut refusals = 0;
    for from in OrderStatus::ALL {
        for (event, want) in events.iter().zip(expected(from)) {
            assert_eq!(next(from, event), want, "{from:?} + {}", event.name());
            let applied = order(from).apply(event, &evidence(), 5_000);
            match want {
                Step::Move(to) => {
                    moves += 1;
                    let moved = applied.unwrap().expect("moved");
                    assert_eq!(moved.status, to);
                    let last = moved.history.last().unwrap();
                    assert_eq!((last.from, last.to, last.at), (from, to, 5_000));
                    assert_eq!(last.event, event.name());
                    assert_eq!(last.evidence.source(), "query");
                }
                Step::Stay => assert_eq!(applied, Ok(None)),
                Step::Refuse => {
                    refusals += 1;
                    assert_eq!(
                        applied,
                        Err(Refused {
                            from,
                            event: event.name()
                        })
                    );
                }
            }
        }
    }
    // The diagram's eight arrows, plus: an order whose prepay answer was
    // lost paid, closed or expired (3); a late payment of a closed or
    // expired order (2); a new refund after a closed one and an abnormal
    // refund re-sent (2).
    assert_eq!(moves, 15);
    assert_eq!(refusals, 72 - 15 - 14);
}

#[test]
fn moves_record_what_wechat_pay_said() {
    let prepaid = order(S::Created)
        .apply(
            &Event::Prepaid {
                prepay_id: "wx2024".into(),
            },
            &evidence(),
            1,
        )
        .unwrap()
        .unwrap();
    assert_eq!(prepaid.prepay_id.as_deref(), Some("wx2024"));
    let paid = prepaid
        .apply(
            &Event::Paid {
                transaction_id: "4200001".into(),
                success_time: Some("2024-01-01T00:00:10+08:00".into()),
            },
            &evidence(),
            2,
        )
        .unwrap()
        .unwrap();
    assert_eq!(paid.view().transaction_id.as_deref(), Some("4200001"));
    assert_eq!(paid.view().status, S::Paid);
    assert!(paid.settled());
    let refunding = paid
        .apply(
            &Event::RefundAccepted {
                out_refund_no: "R1".into(),
                refund_id: "5000".into(),
                refund_fen: 800,
            },
            &evidence(),
            3,
        )
        .unwrap()
        .unwrap();
    assert!(!refunding.settled());
    assert_eq!(refunding.view().refund_fen, Some(800));
    assert_eq!(refunding.history.len(), 3);
}

#[test]
fn history_is_bounded() {
    let mut o = order(S::RefundClosed);
    for i in 0..(HISTORY_LIMIT as u64 * 2) {
        let event = if o.status == S::RefundClosed {
            Event::RefundAccepted {
                out_refund_no: format!("R{i}"),
                refund_id: "1".into(),
                refund_fen: 1,
            }
        } else {
            Event::RefundClosed
        };
        o = o.apply(&event, &evidence(), i).unwrap().unwrap();
    }
    assert_eq!(o.history.len(), HISTORY_LIMIT);
}

#[test]
fn transaction_states_map_to_events() {
    let tx = |state: &str| Transaction {
        appid: "wx1".into(),
        mchid: "1".into(),
        out_trade_no: "WX1234".into(),
        transaction_id: Some("42".into()),
        trade_type: None,
        trade_state: state.into(),
        trade_state_desc: None,
        bank_type: None,
        success_time: None,
        payer: None,
        amount: None,
    };
    assert!(matches!(
        Event::from_transaction(&tx("SUCCESS"), false),
        Some(Event::Paid { .. })
    ));
    assert!(matches!(
        Event::from_transaction(&tx("REFUND"), false),
        Some(Event::Paid { .. })
    ));
    assert_eq!(
        Event::from_transaction(&tx("CLOSED"), false),
        Some(Event::Closed)
    );
    assert_eq!(
        Event::from_transaction(&tx("CLOSED"), true),
        Some(Event::Expired)
    );
    for waiting in ["NOTPAY", "USERPAYING", "PAYERROR", "anything"] {
        assert_eq!(Event::from_transaction(&tx(waiting), false), None);
    }
    assert_eq!(Event::from_refund_status("SUCCESS"), Some(Event::Refunded));
    assert_eq!(Event::from_refund_status("PROCESSING"), None);
}

#[test]
fn numbers_and_times() {
    for good in ["123456", "WX20240101000000abcdefabcdef", "a_b-c|d*e1"] {
        assert!(is_out_trade_no(good), "{good}");
    }
    for bad in [
        "12345",
        &"1".repeat(33),
        "abc def",
        "订单号123456",
        "abc/def",
    ] {
        assert!(!is_out_trade_no(bad), "{bad}");
    }
    let no = new_out_trade_no(1_700_000_000);
    assert!(
        is_out_trade_no(&no) && no.starts_with("WX20231115061320"),
        "{no}"
    );
    let refund_no = new_out_refund_no(&no);
    assert!(
        refund_no.len() <= 64 && refund_no.starts_with(&no),
        "{refund_no}"
    );
    assert_eq!(rfc3339(1_432_099_775), "2015-05-20T13:29:35+08:00");
    assert_eq!(
        parse_rfc3339("2015-05-20T13:29:35+08:00"),
        Some(1_432_099_775)
    );
    assert_eq!(parse_rfc3339("2015-05-20T05:29:35Z"), Some(1_432_099_775));
    assert_eq!(parse_rfc3339("2015-05-20 13:29:35"), None);
    assert_eq!(parse_rfc3339("20150520132935"), None);
    assert_eq!(Fen(1805).to_string(), "¥18.05");
}
