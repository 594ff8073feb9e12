// The pod sandbox (pause) image's only binary, built locally. See ../build.sh.
module etcd-health-operator/node/pause

go 1.26.0
