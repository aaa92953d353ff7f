//! PLACEHOLDER: the YAML loader and emitter (being written).
