//! kube-standin
