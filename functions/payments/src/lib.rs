//! payments (being written).
