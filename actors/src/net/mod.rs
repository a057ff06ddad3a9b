//! Outbound requests whose destination a chat decides (a page the model fetches, a webhook a
//! user gives): `guard` says which addresses they may reach; `client` resolves names, checks
//! every address and every redirect, and connects only to what it checked.

pub mod client;
pub mod guard;

pub use client::{FetchError, Fetched, get, guarded_client};
pub use guard::{Refused, check_ip, check_name, check_url};
