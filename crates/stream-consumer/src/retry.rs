//! Exponential backoff that gives way to shutdown.

use std::time::Duration;

use tokio::sync::watch;

use crate::pipeline::PipelineError;

pub struct Backoff {
    next: Duration,
    max: Duration,
}

impl Backoff {
    pub fn new(initial: Duration, max: Duration) -> Self {
        Backoff { next: initial, max }
    }

    /// Sleeps the current delay and doubles it; fails if shutdown is requested meanwhile (the
    /// batch is then left uncommitted, to be redelivered).
    pub async fn wait(
        &mut self,
        shutdown: &mut watch::Receiver<bool>,
    ) -> Result<(), PipelineError> {
        if *shutdown.borrow() {
            return Err(PipelineError::ShutdownDuringOutage);
        }
        tokio::select! {
            _ = tokio::time::sleep(self.next) => {}
            _ = shutdown.changed() => return Err(PipelineError::ShutdownDuringOutage),
        }
        self.next = (self.next * 2).min(self.max);
        Ok(())
    }
}
