//! vMotion hand-over between a VM's source and destination connections
//! (spec 5.2): the secret is stored, PEER is validated, replies produced on
//! the source during the migration are queued and delivered after COMPLETE
//! (to the destination) or ABORT (to the source).

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Identifies a connection within the workflow.
pub type ConnectionId = u64;

/// `sequence ‖ secret`: what the destination presents in VMOTION-PEER.
pub type VmotionKey = Vec<u8>;

struct Entry {
    sequence: Vec<u8>,
    source: ConnectionId,
    destination: Option<ConnectionId>,
    created: Instant,
    queued: Vec<Vec<u8>>,
}

pub struct VmotionRegistry {
    entries: Mutex<HashMap<VmotionKey, Entry>>,
    timeout: Duration,
}

impl VmotionRegistry {
    pub fn new(timeout: Duration) -> Self {
        Self {
            entries: Mutex::new(HashMap::new()),
            timeout,
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<VmotionKey, Entry>> {
        self.entries.lock().expect("vmotion registry poisoned")
    }

    /// Drops entries older than the timeout with their queues; returns how many.
    pub fn sweep(&self) -> usize {
        let now = Instant::now();
        let mut entries = self.lock();
        let before = entries.len();
        entries.retain(|_, entry| now.duration_since(entry.created) < self.timeout);
        before - entries.len()
    }

    pub fn is_active(&self, key: &VmotionKey) -> bool {
        self.lock().contains_key(key)
    }

    /// Starts a migration of `source`; returns the key (`sequence ‖ secret`).
    pub fn begin(&self, source: ConnectionId, sequence: &[u8]) -> VmotionKey {
        let mut secret = [0u8; 4];
        getrandom::fill(&mut secret).expect("the OS random number generator is available");
        let mut key = sequence.to_vec();
        key.extend_from_slice(&secret);
        self.lock().insert(
            key.clone(),
            Entry {
                sequence: sequence.to_vec(),
                source,
                destination: None,
                created: Instant::now(),
                queued: Vec::new(),
            },
        );
        key
    }

    /// Queues a reply for the migrating VM. Gives the reply back when the
    /// migration is over (it is then written directly).
    pub fn queue(&self, key: &VmotionKey, reply: Vec<u8>) -> Result<(), Vec<u8>> {
        match self.lock().get_mut(key) {
            Some(entry) => {
                entry.queued.push(reply);
                Ok(())
            }
            None => Err(reply),
        }
    }

    /// Links `destination` to the migration `payload` names; returns the
    /// sequence for PEER-OK, or `None` for an unknown key.
    pub fn peer(&self, destination: ConnectionId, payload: &[u8]) -> Option<Vec<u8>> {
        let mut entries = self.lock();
        let entry = entries.get_mut(payload)?;
        entry.destination = Some(destination);
        Some(entry.sequence.clone())
    }

    /// Completes the migration linked to `destination` with `sequence`;
    /// returns the queued replies to write on the destination.
    pub fn complete(
        &self,
        destination: ConnectionId,
        key: &VmotionKey,
        sequence: &[u8],
    ) -> Option<Vec<Vec<u8>>> {
        let mut entries = self.lock();
        let matches = entries.get(key).is_some_and(|entry| {
            entry.destination == Some(destination) && entry.sequence == sequence
        });
        matches
            .then(|| entries.remove(key).map(|entry| entry.queued))
            .flatten()
    }

    /// Aborts the migration started by `source`; returns its queued replies.
    pub fn abort(&self, source: ConnectionId, key: &VmotionKey) -> Option<Vec<Vec<u8>>> {
        let mut entries = self.lock();
        let matches = entries.get(key).is_some_and(|entry| entry.source == source);
        matches
            .then(|| entries.remove(key).map(|entry| entry.queued))
            .flatten()
    }
}
