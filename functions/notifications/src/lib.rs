//! notifications (being written).
