//! The crate's `tracing` spans (feature `tracing`): one per save step, seal,
//! claim, commit, load, restore and activation, carrying the shard, epoch,
//! fence, sizes and record counts. A subscriber that records span durations
//! (e.g. `tracing_subscriber::fmt().with_span_events(FmtSpan::CLOSE)`) shows
//! how long each took. Without the feature the macro expands to nothing.

/// Enters an `INFO` span named `$name` with the given fields until the end
/// of the enclosing block; nothing when the feature is off.
macro_rules! span {
    ($name:literal $(, $($fields:tt)*)?) => {
        #[cfg(feature = "tracing")]
        let _span = tracing::info_span!(target: "caelmor_persist", $name $(, $($fields)*)?).entered();
    };
}

/// Records an `INFO` event (an outcome, with its figures); nothing when the
/// feature is off.
macro_rules! event {
    ($($args:tt)*) => {
        #[cfg(feature = "tracing")]
        tracing::info!(target: "caelmor_persist", $($args)*);
    };
}

pub(crate) use {event, span};
