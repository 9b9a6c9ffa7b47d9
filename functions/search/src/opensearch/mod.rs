//! OpenSearch adapter (being written).
