//! checkout (being written).
