//! cart (being written).
