//! Unit tests of the restart plan.
