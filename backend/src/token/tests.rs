//! Slot mechanics without a network: single flight, backoff,
//! compare-and-invalidate, and instances sharing one store.

use super::*;
use crate::store::{MemoryStore, Store};
use std::sync::atomic::AtomicUsize;

const POLICY: BackoffPolicy = BackoffPolicy {
    min: Duration::from_secs(1),
    max: Duration::from_secs(8),
};

/// One instance's view: its own holder id over a (possibly shared) store.
struct Instance {
    store: Arc<MemoryStore>,
    clock: Clock,
    holder: String,
}

impl Instance {
    fn new(store: &Arc<MemoryStore>, holder: &str) -> Self {
        Self {
            store: store.clone(),
            clock: Clock::system(),
            holder: holder.into(),
        }
    }

    fn cx(&self) -> Context<'_> {
        Context {
            store: &*self.store,
            clock: &self.clock,
            policy: POLICY,
            lease_ttl: Duration::from_secs(5),
            holder: &self.holder,
        }
    }
}

fn fresh_store() -> Arc<MemoryStore> {
    Arc::new(MemoryStore::new())
}

fn slot() -> Slot {
    Slot::new("token:access".into(), "lease:token:access".into())
}

fn fetched(value: &str, secs: u64) -> Result<Fetched, CallError> {
    Ok(Fetched {
        value: value.into(),
        expires_in: Duration::from_secs(secs),
        parent: 0,
    })
}

fn failure() -> Result<Fetched, CallError> {
    Err(CallError {
        failure: Failure::Wechat(WechatError::api(-1, "busy", None)),
        retry_after: Duration::ZERO,
    })
}

#[tokio::test(start_paused = true)]
async fn concurrent_callers_share_one_fetch() {
    let store = fresh_store();
    let slot = Arc::new(slot());
    let calls = Arc::new(AtomicUsize::new(0));
    let mut tasks = Vec::new();
    for _ in 0..50 {
        let (slot, calls, store) = (slot.clone(), calls.clone(), store.clone());
        tasks.push(tokio::spawn(async move {
            let me = Instance::new(&store, "a");
            slot.obtain(Want::usable(), &me.cx(), || async {
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
    let store = fresh_store();
    let me = Instance::new(&store, "a");
    let slot = slot();
    let err = slot
        .obtain(Want::usable(), &me.cx(), || async { failure() })
        .await
        .unwrap_err();
    assert_eq!(err.retry_after, Duration::from_secs(1));
    // Inside the window: no call, the remembered error and the time left.
    let called = AtomicUsize::new(0);
    let again = slot
        .obtain(Want::usable(), &me.cx(), || async {
            called.fetch_add(1, Ordering::SeqCst);
            fetched("never", 1)
        })
        .await
        .unwrap_err();
    assert_eq!(called.load(Ordering::SeqCst), 0);
    assert_eq!(again.failure.errcode(), Some(-1));
    tokio::time::advance(Duration::from_secs(1)).await;
    let err = slot
        .obtain(Want::usable(), &me.cx(), || async { failure() })
        .await
        .unwrap_err();
    assert_eq!(err.retry_after, Duration::from_secs(2));
    for _ in 0..6 {
        tokio::time::advance(Duration::from_secs(8)).await;
        let err = slot
            .obtain(Want::usable(), &me.cx(), || async { failure() })
            .await
            .unwrap_err();
        assert!(err.retry_after <= POLICY.max, "{:?}", err.retry_after);
    }
    tokio::time::advance(Duration::from_secs(8)).await;
    let capped = slot
        .obtain(Want::usable(), &me.cx(), || async { failure() })
        .await
        .unwrap_err();
    assert_eq!(capped.retry_after, POLICY.max);
    tokio::time::advance(Duration::from_secs(8)).await;
    let ok = slot
        .obtain(Want::usable(), &me.cx(), || async { fetched("T", 60) })
        .await
        .unwrap();
    assert_eq!(ok.value, "T");
    slot.invalidate(ok.version);
    let err = slot
        .obtain(Want::newer_than(ok.version), &me.cx(), || async {
            failure()
        })
        .await
        .unwrap_err();
    assert_eq!(
        err.retry_after,
        Duration::from_secs(1),
        "success resets the backoff"
    );
}

#[tokio::test]
async fn invalidation_only_drops_the_failed_version() {
    let store = fresh_store();
    let me = Instance::new(&store, "a");
    let slot = slot();
    let first = slot
        .obtain(Want::usable(), &me.cx(), || async { fetched("T1", 7200) })
        .await
        .unwrap();
    let second = slot
        .obtain(Want::newer_than(first.version), &me.cx(), || async {
            fetched("T2", 7200)
        })
        .await
        .unwrap();
    assert_eq!(second.version, first.version + 1);
    assert!(
        !slot.invalidate(first.version),
        "a stale version never drops the newer token"
    );
    assert_eq!(slot.usable(Instant::now()).unwrap().value, "T2");
    assert!(slot.invalidate(second.version));
    assert!(slot.usable(Instant::now()).is_none());
}

#[tokio::test]
async fn refresh_and_expiry_come_before_wechats_deadline() {
    let store = fresh_store();
    let me = Instance::new(&store, "a");
    let slot = slot();
    let now = Instant::now();
    let c = slot
        .obtain(Want::usable(), &me.cx(), || async { fetched("T", 7200) })
        .await
        .unwrap();
    let near = |at: Instant, secs: u64| {
        let d = at.duration_since(now).as_millis() as i64 - secs as i64 * 1000;
        d.abs() < 200
    };
    assert!(near(c.refresh_at, 6960), "refresh 4 minutes ahead");
    assert!(
        near(c.expires_at, 7170),
        "served until 30 s before WeChat's expiry"
    );
    let short = slot
        .obtain(Want::newer_than(c.version), &me.cx(), || async {
            fetched("S", 4)
        })
        .await
        .unwrap();
    assert!(near(short.refresh_at, 3));
    assert!(short.expires_at > short.refresh_at);
    assert!(short.expires_at < now + Duration::from_secs(4));
}

#[tokio::test]
async fn children_of_a_dead_token_are_dropped() {
    let store = fresh_store();
    let me = Instance::new(&store, "a");
    let tickets = Slot::new("token:ticket".into(), "lease:token:ticket".into());
    tickets
        .obtain(Want::usable(), &me.cx(), || async {
            Ok(Fetched {
                value: "K".into(),
                expires_in: Duration::from_secs(60),
                parent: 7,
            })
        })
        .await
        .unwrap();
    tickets.invalidate_children_of(6);
    assert!(tickets.usable(Instant::now()).is_some());
    tickets.invalidate_children_of(7);
    assert!(tickets.usable(Instant::now()).is_none());
    // Nor is the stored one reused once its token is known dead.
    let refetched = tickets
        .obtain(Want::usable().with_parent_from(8), &me.cx(), || async {
            Ok(Fetched {
                value: "K2".into(),
                expires_in: Duration::from_secs(60),
                parent: 8,
            })
        })
        .await
        .unwrap();
    assert_eq!(refetched.value, "K2");
}

#[tokio::test]
async fn a_second_instance_adopts_the_stored_credential_without_fetching() {
    let store = fresh_store();
    let (a, b) = (Instance::new(&store, "a"), Instance::new(&store, "b"));
    let (slot_a, slot_b) = (slot(), slot());
    let first = slot_a
        .obtain(Want::usable(), &a.cx(), || async { fetched("T1", 7200) })
        .await
        .unwrap();
    let seen = slot_b
        .obtain(Want::usable(), &b.cx(), || async {
            panic!("b must not fetch")
        })
        .await
        .unwrap();
    assert_eq!((seen.value.as_str(), seen.version), ("T1", first.version));
    // b finds T1 dead: it replaces it in the store; a then adopts b's.
    slot_b.invalidate(seen.version);
    let replaced = slot_b
        .obtain(Want::newer_than(seen.version), &b.cx(), || async {
            fetched("T2", 7200)
        })
        .await
        .unwrap();
    let adopted = slot_a
        .obtain(Want::newer_than(first.version), &a.cx(), || async {
            panic!("a must not fetch")
        })
        .await
        .unwrap();
    assert_eq!(
        (adopted.value.as_str(), adopted.version),
        ("T2", replaced.version)
    );
}

#[tokio::test]
async fn a_writer_that_lost_the_race_uses_the_newer_record() {
    let store = fresh_store();
    let (a, b) = (Instance::new(&store, "a"), Instance::new(&store, "b"));
    let (slot_a, slot_b) = (slot(), slot());
    // While a fetches (holding the lease), its lease lapses and b writes a
    // newer record. a's write must not land.
    let a_cx = Context {
        lease_ttl: Duration::from_millis(50),
        ..a.cx()
    };
    let outcome = slot_a
        .obtain(Want::usable(), &a_cx, || async {
            tokio::time::sleep(Duration::from_millis(120)).await;
            let b_got = slot_b
                .obtain(Want::usable(), &b.cx(), || async {
                    fetched("from-b", 7200)
                })
                .await
                .unwrap();
            assert_eq!(b_got.value, "from-b");
            fetched("from-a", 7200)
        })
        .await
        .unwrap();
    assert_eq!(outcome.value, "from-b", "the late write was refused");
    let stored: Record =
        serde_json::from_slice(&store.get("token:access").await.unwrap().unwrap()).unwrap();
    assert_eq!(stored.value, "from-b");
}

#[tokio::test]
async fn a_waiting_instance_takes_over_a_dead_holders_lease() {
    let store = fresh_store();
    let b = Instance::new(&store, "b");
    // A dead instance left its lease behind, 300 ms to go.
    store
        .put(
            "lease:token:access",
            b"dead-holder",
            Duration::from_millis(300),
        )
        .await
        .unwrap();
    let started = Instant::now();
    let got = slot()
        .obtain(Want::usable(), &b.cx(), || async { fetched("T", 7200) })
        .await
        .unwrap();
    assert_eq!(got.value, "T");
    assert!(
        started.elapsed() >= Duration::from_millis(250),
        "waited for the lease to lapse"
    );
}
