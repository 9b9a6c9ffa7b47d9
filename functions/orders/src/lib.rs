//! orders (being written).
