//! Istio service mesh: mutual TLS and authorization.

pub mod authorization_allow_all;
pub mod destination_rule_tls_disabled;
pub mod peer_authentication_not_strict;
