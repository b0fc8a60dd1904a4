//! Progress bars for training and prediction (indicatif), and Ctrl-C handling.

use std::cell::RefCell;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use goodfit::run_folder::records::EpochRecord;
use goodfit::train::Observer;
use indicatif::{ProgressBar, ProgressStyle};

/// Draws a bar per epoch and per evaluation on standard error; prints a line per epoch.
pub struct Bars {
    quiet: bool,
    bar: RefCell<Option<ProgressBar>>,
    loss: RefCell<(f64, usize)>,
    interrupts: Arc<AtomicUsize>,
}

impl Bars {
    /// Bars unless `quiet`. The first Ctrl-C asks the run to stop after the current epoch
    /// (it can be resumed); the second ends the program at once.
    pub fn new(quiet: bool) -> Bars {
        Bars::with_interrupt_note(quiet, "its checkpoint is kept")
    }

    /// [`Bars::new`] with what the first Ctrl-C keeps, said in its message (`--auto` keeps the
    /// finished trials, not a checkpoint).
    pub fn with_interrupt_note(quiet: bool, kept: &'static str) -> Bars {
        let interrupts = Arc::new(AtomicUsize::new(0));
        let seen = Arc::clone(&interrupts);
        // Without a handler (e.g. one was set already) Ctrl-C simply ends the program.
        let _ = ctrlc::set_handler(move || {
            if seen.fetch_add(1, Ordering::SeqCst) >= 1 {
                std::process::exit(130);
            }
            eprintln!("\nstopping after this epoch ({kept}); Ctrl-C again to quit now");
        });
        Bars {
            quiet,
            bar: RefCell::new(None),
            loss: RefCell::new((0.0, 0)),
            interrupts,
        }
    }

    fn start(&self, len: usize, template: &str, message: String) {
        if self.quiet {
            return;
        }
        // Clear the previous bar before drawing the next, so finished bars leave no lines.
        self.finish();
        let bar = ProgressBar::new(len as u64);
        if let Ok(style) = ProgressStyle::with_template(template) {
            bar.set_style(style.progress_chars("=> "));
        }
        bar.set_message(message);
        self.bar.replace(Some(bar));
    }

    fn finish(&self) {
        if let Some(bar) = self.bar.borrow_mut().take() {
            bar.finish_and_clear();
        }
    }

    /// A line for the user, printed above any bar.
    pub fn say(&self, text: &str) {
        match &*self.bar.borrow() {
            // A hidden bar (stderr is not a terminal) drops what it is asked to print: a
            // search logged to a file lost every trial line.
            Some(bar) if !bar.is_hidden() => bar.println(text),
            _ => eprintln!("{text}"),
        }
    }

    /// A bar for `n` examples of prediction.
    pub fn predicting(&self, n: usize) {
        self.start(
            n,
            "predict [{bar:30}] {pos}/{len} examples, eta {eta}",
            String::new(),
        );
    }

    /// Advances the current bar.
    pub fn advance(&self, n: usize) {
        if let Some(bar) = &*self.bar.borrow() {
            bar.inc(n as u64);
        }
    }

    /// Clears the current bar.
    pub fn done(&self) {
        self.finish();
    }
}

impl Observer for Bars {
    fn message(&self, text: &str) {
        self.say(text);
    }

    fn epoch_start(&self, epoch: usize, epochs: usize, batches: usize) {
        *self.loss.borrow_mut() = (0.0, 0);
        self.start(
            batches,
            "epoch {msg} [{bar:30}] {pos}/{len} batches, eta {eta}",
            format!("{epoch}/{epochs}"),
        );
    }

    fn batch_end(&self, loss: f64) {
        let mut running = self.loss.borrow_mut();
        running.0 += loss;
        running.1 += 1;
        if let Some(bar) = &*self.bar.borrow() {
            bar.inc(1);
            let epoch = bar.message();
            let epoch = epoch.split(' ').next().unwrap_or_default().to_string();
            bar.set_message(format!("{epoch} loss {:.4}", running.0 / running.1 as f64));
        }
    }

    fn eval_start(&self, what: &str, examples: usize) {
        self.start(
            examples,
            "{msg} [{bar:30}] {pos}/{len} examples",
            format!("evaluating {what}"),
        );
    }

    fn eval_progress(&self, done: usize) {
        self.advance(done);
    }

    fn epoch_end(&self, record: &EpochRecord) {
        self.finish();
        if self.quiet {
            return;
        }
        let number = |key: &str| {
            record
                .get(key)
                .map_or("undefined".to_string(), |v| format!("{v:.4}"))
        };
        self.say(&format!(
            "epoch {}: train_loss {}  val_loss {}  val_f1_macro {}  val_accuracy {}  ({:.0} s)",
            record.epoch,
            number("train_loss"),
            number("val_loss"),
            number("val_f1_macro"),
            number("val_accuracy"),
            record.seconds
        ));
    }

    fn keep_going(&self) -> bool {
        self.interrupts.load(Ordering::SeqCst) == 0
    }
}
