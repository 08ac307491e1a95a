//! Holds no code: the cases are under `tests/`, run by `tests/ui.rs`.
