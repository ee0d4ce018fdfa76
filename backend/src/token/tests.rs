//! Slot mechanics without a network: single flight, backoff, compare-and-invalidate.

use super::*;
use std::sync::atomic::AtomicUsize;

const POLICY: BackoffPolicy = BackoffPolicy {
    min: Duration::from_secs(1),
    max: Duration::from_secs(8),
};

fn fetched(value: &str, secs: u64) -> Result<Fetched, TokenError> {
    Ok(Fetched {
        value: value.into(),
        expires_in: Duration::from_secs(secs),
        parent: 0,
        at_unix: 0,
    })
}

fn failure() -> Result<Fetched, TokenError> {
    Err(TokenError {
        error: WechatError::Api {
            errcode: -1,
            errmsg: "busy".into(),
        },
        retry_after: Duration::ZERO,
    })
}

#[tokio::test(start_paused = true)]
async fn concurrent_callers_share_one_fetch() {
    let slot = Arc::new(Slot::default());
    let calls = Arc::new(AtomicUsize::new(0));
    let mut tasks = Vec::new();
    for _ in 0..50 {
        let (slot, calls) = (slot.clone(), calls.clone());
        tasks.push(tokio::spawn(async move {
            slot.fetch(Want::Usable, POLICY, || async {
                calls.fetch_add(1, Ordering::SeqCst);
                tokio::time::sleep(Duration::from_millis(100)).await;
                fetched("T1", 7200)
            })
            .await
            .unwrap()
            .value
            .clone()
        }));
    }
    for task in tasks {
        assert_eq!(task.await.unwrap(), "T1");
    }
    assert_eq!(calls.load(Ordering::SeqCst), 1);
}

#[tokio::test(start_paused = true)]
async fn failures_back_off_exponentially_and_reset_on_success() {
    let slot = Slot::default();
    let err = slot
        .fetch(Want::Usable, POLICY, || async { failure() })
        .await
        .unwrap_err();
    assert_eq!(err.retry_after, Duration::from_secs(1));
    // Inside the window: no call, the remembered error and the time left.
    let called = AtomicUsize::new(0);
    let again = slot
        .fetch(Want::Usable, POLICY, || async {
            called.fetch_add(1, Ordering::SeqCst);
            fetched("never", 1)
        })
        .await
        .unwrap_err();
    assert_eq!(called.load(Ordering::SeqCst), 0);
    assert_eq!(again.error.errcode(), Some(-1));
    tokio::time::advance(Duration::from_secs(1)).await;
    let err = slot
        .fetch(Want::Usable, POLICY, || async { failure() })
        .await
        .unwrap_err();
    assert_eq!(err.retry_after, Duration::from_secs(2));
    for _ in 0..6 {
        tokio::time::advance(Duration::from_secs(8)).await;
        let _ = slot
            .fetch(Want::Usable, POLICY, || async { failure() })
            .await;
    }
    tokio::time::advance(Duration::from_secs(8)).await;
    let capped = slot
        .fetch(Want::Usable, POLICY, || async { failure() })
        .await
        .unwrap_err();
    assert_eq!(capped.retry_after, POLICY.max);
    tokio::time::advance(Duration::from_secs(8)).await;
    assert_eq!(
        slot.fetch(Want::Usable, POLICY, || async { fetched("T", 60) })
            .await
            .unwrap()
            .value,
        "T"
    );
    slot.invalidate(1);
    let err = slot
        .fetch(Want::Usable, POLICY, || async { failure() })
        .await
        .unwrap_err();
    assert_eq!(
        err.retry_after,
        Duration::from_secs(1),
        "success resets the backoff"
    );
}

#[tokio::test(start_paused = true)]
async fn invalidation_only_drops_the_failed_version() {
    let slot = Slot::default();
    let first = slot
        .fetch(Want::Usable, POLICY, || async { fetched("T1", 7200) })
        .await
        .unwrap();
    let second = slot
        .fetch(Want::Newer(first.version), POLICY, || async {
            fetched("T2", 7200)
        })
        .await
        .unwrap();
    assert!(second.version > first.version);
    assert!(
        !slot.invalidate(first.version),
        "a stale version never drops the newer token"
    );
    assert_eq!(slot.usable(Instant::now()).unwrap().value, "T2");
    assert!(slot.invalidate(second.version));
    assert!(slot.usable(Instant::now()).is_none());
}

#[tokio::test(start_paused = true)]
async fn refresh_and_expiry_come_before_wechats_deadline() {
    let slot = Slot::default();
    let c = slot
        .fetch(Want::Usable, POLICY, || async { fetched("T", 7200) })
        .await
        .unwrap();
    let now = Instant::now();
    assert_eq!(c.refresh_at - now, Duration::from_secs(6900));
    assert_eq!(c.expires_at - now, Duration::from_secs(7170));
    let short = slot
        .fetch(Want::Newer(c.version), POLICY, || async { fetched("S", 4) })
        .await
        .unwrap();
    assert_eq!(short.refresh_at - now, Duration::from_secs(3));
    assert!(short.expires_at > short.refresh_at);
    assert!(short.expires_at < now + Duration::from_secs(4));
}

#[tokio::test(start_paused = true)]
async fn children_of_a_dead_token_are_dropped() {
    let tickets = Slot::default();
    tickets
        .fetch(Want::Usable, POLICY, || async {
            Ok(Fetched {
                value: "K".into(),
                expires_in: Duration::from_secs(60),
                parent: 7,
                at_unix: 0,
            })
        })
        .await
        .unwrap();
    tickets.invalidate_children_of(6);
    assert!(tickets.usable(Instant::now()).is_some());
    tickets.invalidate_children_of(7);
    assert!(tickets.usable(Instant::now()).is_none());
}
