//! The kubeconfig that points an ordinary client at the stand-in.

/// Name used for the cluster, user and context entries.
pub const CONTEXT_NAME: &str = "kube-standin";

/// A kubeconfig for `server` (e.g. `http://127.0.0.1:41234`). The bearer token is sent but not
/// checked; `namespace` becomes the context's default namespace.
pub fn render(server: &str, namespace: &str, token: &str) -> String {
    format!(
        "apiVersion: v1
kind: Config
clusters:
- name: {CONTEXT_NAME}
  cluster:
    server: {server}
contexts:
- name: {CONTEXT_NAME}
  context:
    cluster: {CONTEXT_NAME}
    user: {CONTEXT_NAME}
    namespace: {namespace}
current-context: {CONTEXT_NAME}
users:
- name: {CONTEXT_NAME}
  user:
    token: {token}
preferences: {{}}
"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kubeconfig_is_valid_yaml_naming_the_server() {
        let text = render("http://127.0.0.1:1234", "default", "t");
        let doc: serde_yaml::Value = serde_yaml::from_str(&text).unwrap();
        assert_eq!(
            doc["clusters"][0]["cluster"]["server"].as_str(),
            Some("http://127.0.0.1:1234")
        );
        assert_eq!(doc["current-context"].as_str(), Some(CONTEXT_NAME));
        assert_eq!(
            doc["contexts"][0]["context"]["namespace"].as_str(),
            Some("default")
        );
    }
}
