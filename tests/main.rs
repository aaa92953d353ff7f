//! Postern's one integration-test binary: black-box tests over real sockets.
//! One module per workflow, plus shared support.

mod cli;
mod cvproxy;
mod modules;
mod spiro;
mod support;
mod telnet_codec;
mod vspc;
