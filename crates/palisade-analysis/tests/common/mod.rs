//! Helpers the RBAC truth tables share: an inventory from YAML text, requests, users.

use std::sync::Arc;

use palisade_analysis::rbac::{Inventory, InventoryBuilder, Request, UserInfo};
use palisade_load::{load_text, Loaded};

pub fn inventory(text: &str, bootstrap: bool) -> Inventory {
    let mut builder = InventoryBuilder::default();
    load_text(&Arc::from("rbac.yaml"), text, &mut |loaded| match loaded {
        Loaded::Object(object) => builder.add(&object),
        Loaded::Skipped => {}
        Loaded::Error(e) | Loaded::Warning(e) => panic!("{e}"),
    });
    builder.build(bootstrap)
}

pub fn res(
    verb: &str,
    group: &str,
    resource: &str,
    sub: &str,
    name: &str,
    ns: Option<&str>,
) -> Request {
    Request::resource(verb, group, resource, sub, name, ns)
}

pub fn user(name: &str) -> UserInfo {
    UserInfo::new(name, &[])
}
