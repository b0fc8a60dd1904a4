//! How the training loop reports progress, so the library prints nothing itself: the
//! command-line program draws progress bars, tests stay silent.

use crate::run_folder::records::EpochRecord;

/// Receives what happens during training. Every method has a do-nothing default.
pub trait Observer {
    /// A note for the user (skipped rows, the split, where the run is written).
    fn message(&self, _text: &str) {}
    /// An epoch of `batches` training batches begins.
    fn epoch_start(&self, _epoch: usize, _epochs: usize, _batches: usize) {}
    /// A training batch finished with this loss.
    fn batch_end(&self, _loss: f64) {}
    /// Evaluation of `examples` examples begins (`what`: `validation`, `training sample`, `test`).
    fn eval_start(&self, _what: &str, _examples: usize) {}
    /// `done` more examples were evaluated.
    fn eval_progress(&self, _done: usize) {}
    /// An epoch ended with this history record.
    fn epoch_end(&self, _record: &EpochRecord) {}
    /// Asked after each epoch's checkpoint is written: `false` stops the run there (it can
    /// be resumed), for example on Ctrl-C.
    fn keep_going(&self) -> bool {
        true
    }
    /// Asked after each training batch: `true` stops the run there, dropping the epoch in
    /// progress (the run folder keeps the last finished epoch's checkpoint, so it can be
    /// resumed when one finished). The Python package answers it from Ctrl-C; the
    /// command-line program finishes the epoch instead ([`Observer::keep_going`]).
    fn stop_now(&self) -> bool {
        false
    }
}

/// An observer that ignores everything.
pub struct Silent;

impl Observer for Silent {}
