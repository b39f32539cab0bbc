//! Installing the library into a minijinja environment.

use minijinja::value::{Rest, Value};
use minijinja::{Environment, Error};

use crate::funcs::{self, HelmFn};

/// Registers every Helm function twice: as a function with Helm's argument order
/// (`default("d", x)`) and as a filter whose piped value becomes the *last* Helm argument
/// (`x | default("d")`), like a Helm pipeline. Helm's semantics replace minijinja built-ins
/// of the same name.
pub fn register(env: &mut Environment<'_>) {
    for (name, func) in funcs::all() {
        env.add_function(name, move |args: Rest<Value>| call(func, &args));
        env.add_filter(name, move |piped: Value, args: Rest<Value>| {
            let mut all = args.0;
            all.push(piped);
            call(func, &all)
        });
    }
}

fn call(func: HelmFn, args: &[Value]) -> Result<Value, Error> {
    func(args).map_err(Error::from)
}
