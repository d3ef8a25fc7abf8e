//! The progress line on stderr while a multi-region statement runs (shell and exec; terminal only).

use std::io::IsTerminal;
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::engine::RegionProgress;

/// A progress line; dropping it stops the updates and clears the line.
pub struct ProgressLine {
    bar: ProgressBar,
    ticker: tokio::task::JoinHandle<()>,
}

/// Starts watching `progress`: nothing shows until the statement has called more than one
/// region, and never when stderr is not a terminal (logs and pipes stay clean).
pub fn start(progress: RegionProgress) -> Option<ProgressLine> {
    if !std::io::stderr().is_terminal() {
        return None;
    }
    let bar = ProgressBar::with_draw_target(None, ProgressDrawTarget::hidden());
    if let Ok(style) = ProgressStyle::with_template("{spinner} {msg}") {
        bar.set_style(style);
    }
    let shown = bar.clone();
    let started = Instant::now();
    let ticker = tokio::spawn(async move {
        let mut visible = false;
        loop {
            tokio::time::sleep(Duration::from_millis(100)).await;
            let (done, total) = progress.counts();
            if total < 2 {
                continue;
            }
            if !visible {
                shown.set_draw_target(ProgressDrawTarget::stderr());
                visible = true;
            }
            shown.set_message(format!(
                "{done}/{total} regions done, {:.1} s",
                started.elapsed().as_secs_f64()
            ));
            shown.tick();
        }
    });
    Some(ProgressLine { bar, ticker })
}

impl Drop for ProgressLine {
    fn drop(&mut self) {
        self.ticker.abort();
        self.bar.finish_and_clear();
    }
}
