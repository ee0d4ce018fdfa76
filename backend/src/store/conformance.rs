//! The contract every store backend keeps, as one test routine each
//! backend's tests run against itself.

use std::time::Duration;

use super::Store;

/// Exercises `store`; `pass` makes time go by (paused tokio time for the
/// memory store, a real sleep for backends whose expiry is the server's).
pub async fn exercise(store: &dyn Store, pass: impl AsyncFn(Duration)) {
    let ttl = Duration::from_secs(2);
    let k = |name: &str| format!("conformance:{name}");

    // put / get / expiry
    store.put(&k("a"), b"1", ttl).await.unwrap();
    assert_eq!(
        store.get(&k("a")).await.unwrap().as_deref(),
        Some(&b"1"[..])
    );
    assert_eq!(store.get(&k("missing")).await.unwrap(), None);

    // put_if_absent: first writer wins
    assert!(store
        .put_if_absent(&k("once"), b"first", ttl)
        .await
        .unwrap());
    assert!(!store
        .put_if_absent(&k("once"), b"second", ttl)
        .await
        .unwrap());
    assert_eq!(
        store.get(&k("once")).await.unwrap().as_deref(),
        Some(&b"first"[..])
    );

    // compare_and_swap: only from the exact expected value
    assert!(!store
        .compare_and_swap(&k("v"), Some(b"x"), b"y", ttl)
        .await
        .unwrap());
    assert!(store
        .compare_and_swap(&k("v"), None, b"v1", ttl)
        .await
        .unwrap());
    assert!(!store
        .compare_and_swap(&k("v"), None, b"v1'", ttl)
        .await
        .unwrap());
    assert!(!store
        .compare_and_swap(&k("v"), Some(b"v0"), b"v2", ttl)
        .await
        .unwrap());
    assert!(store
        .compare_and_swap(&k("v"), Some(b"v1"), b"v2", ttl)
        .await
        .unwrap());
    assert_eq!(
        store.get(&k("v")).await.unwrap().as_deref(),
        Some(&b"v2"[..])
    );

    // delete_if: only one's own value
    assert!(!store.delete_if(&k("v"), b"v1").await.unwrap());
    assert!(store.delete_if(&k("v"), b"v2").await.unwrap());
    assert_eq!(store.get(&k("v")).await.unwrap(), None);

    // delete and delete_prefix
    store.put(&k("user:o1:profile"), b"p", ttl).await.unwrap();
    store.put(&k("user:o1:refresh"), b"r", ttl).await.unwrap();
    store.put(&k("user:o2:profile"), b"q", ttl).await.unwrap();
    store.delete_prefix(&k("user:o1:")).await.unwrap();
    assert_eq!(store.get(&k("user:o1:profile")).await.unwrap(), None);
    assert_eq!(store.get(&k("user:o1:refresh")).await.unwrap(), None);
    assert!(store.get(&k("user:o2:profile")).await.unwrap().is_some());
    store.delete(&k("user:o2:profile")).await.unwrap();
    store.delete(&k("never-there")).await.unwrap();
    assert_eq!(store.get(&k("user:o2:profile")).await.unwrap(), None);

    // deferred writes: visible at once, first writer wins against both
    // kinds of write, and still there after a sync
    store.put_deferred(&k("d"), b"1", ttl).await.unwrap();
    assert_eq!(
        store.get(&k("d")).await.unwrap().as_deref(),
        Some(&b"1"[..])
    );
    assert!(store
        .put_if_absent_deferred(&k("dn"), b"first", ttl)
        .await
        .unwrap());
    assert!(!store
        .put_if_absent_deferred(&k("dn"), b"second", ttl)
        .await
        .unwrap());
    assert!(!store.put_if_absent(&k("dn"), b"third", ttl).await.unwrap());
    assert!(!store
        .put_if_absent_deferred(&k("once"), b"x", ttl)
        .await
        .unwrap());
    assert!(store
        .compare_and_swap(&k("dn"), Some(b"first"), b"swapped", ttl)
        .await
        .unwrap());
    assert!(!store
        .compare_and_swap_deferred(&k("dn"), Some(b"first"), b"late", ttl)
        .await
        .unwrap());
    assert!(store
        .compare_and_swap_deferred(&k("dn"), Some(b"swapped"), b"swapped2", ttl)
        .await
        .unwrap());
    assert!(store
        .compare_and_swap_deferred(&k("dc"), None, b"c", ttl)
        .await
        .unwrap());
    assert!(!store
        .compare_and_swap_deferred(&k("dc"), None, b"c'", ttl)
        .await
        .unwrap());
    store.sync().await.unwrap();
    assert_eq!(
        store.get(&k("dn")).await.unwrap().as_deref(),
        Some(&b"swapped2"[..])
    );
    assert_eq!(
        store.get(&k("dc")).await.unwrap().as_deref(),
        Some(&b"c"[..])
    );
    assert_eq!(
        store.get(&k("d")).await.unwrap().as_deref(),
        Some(&b"1"[..])
    );

    // expiry: gone after the ttl, and then free again
    pass(ttl + Duration::from_millis(100)).await;
    assert_eq!(store.get(&k("a")).await.unwrap(), None);
    assert!(store
        .put_if_absent(&k("once"), b"again", ttl)
        .await
        .unwrap());
    assert!(store
        .compare_and_swap(&k("a"), None, b"new", ttl)
        .await
        .unwrap());
    assert_eq!(store.get(&k("d")).await.unwrap(), None);
    assert!(store
        .put_if_absent_deferred(&k("dn"), b"again", ttl)
        .await
        .unwrap());
    store.sync().await.unwrap();
}
