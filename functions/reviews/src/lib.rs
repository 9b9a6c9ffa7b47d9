//! reviews (being written).
