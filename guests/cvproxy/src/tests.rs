//! End-to-end tests of [`plan`]: the input-stage order and every reply text it can produce.

use super::*;
