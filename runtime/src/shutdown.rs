//! Graceful shutdown: one token that tells every task to stop taking new
//! work, and one tracker that waits for in-flight work to finish.

use std::time::Duration;

use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

#[derive(Clone, Default)]
pub struct Shutdown {
    token: CancellationToken,
    tasks: TaskTracker,
}

impl Shutdown {
    pub fn new() -> Self {
        Self::default()
    }

    /// Resolves once shutdown has begun.
    pub async fn requested(&self) {
        self.token.cancelled().await
    }

    /// Spawns a task that shutdown waits for.
    pub fn spawn<F>(&self, future: F) -> tokio::task::JoinHandle<F::Output>
    where
        F: std::future::Future + Send + 'static,
        F::Output: Send + 'static,
    {
        self.tasks.spawn(future)
    }

    /// Begins shutdown and waits up to `grace` for tracked tasks to finish.
    /// Returns whether everything finished in time.
    pub async fn shut_down(&self, grace: Duration) -> bool {
        self.token.cancel();
        self.tasks.close();
        tokio::time::timeout(grace, self.tasks.wait()).await.is_ok()
    }
}
