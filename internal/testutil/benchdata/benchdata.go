// Package benchdata generates Helm-like manifest streams and the matching
// live state for benchmarks: mostly ConfigMaps, Services and Deployments,
// with one document in a hundred a PersistentVolumeClaim that exists and is
// bound in the cluster, rendered without volumeName (the rollback case) so
// that each claim is rewritten.
package benchdata

import (
	"bytes"
	"fmt"
)

// Namespace is where the generated claims live.
const Namespace = "bench"

// ClaimEvery is the spacing of claims in the stream: 1 in 100 documents.
const ClaimEvery = 100

// Stream returns a rendered stream of n documents and the live state (a
// YAML stream of bound claims) for its claims.
func Stream(n int) (stream, live []byte) {
	var s, l bytes.Buffer
	for i := 0; i < n; i++ {
		if i%ClaimEvery == ClaimEvery-1 {
			writeClaim(&s, &l, i)
			continue
		}
		switch i % 3 {
		case 0:
			writeConfigMap(&s, i)
		case 1:
			writeService(&s, i)
		default:
			writeDeployment(&s, i)
		}
	}
	return s.Bytes(), l.Bytes()
}

func writeClaim(s, l *bytes.Buffer, i int) {
	fmt.Fprintf(s, `---
# Source: app/templates/pvc-%[1]d.yaml
apiVersion: v1
kind: PersistentVolumeClaim
metadata:
  name: data-%[1]d
  labels:
    app.kubernetes.io/name: app
    app.kubernetes.io/instance: bench
spec:
  accessModes:
    - "ReadWriteOnce"
  resources:
    requests:
      storage: "1Gi"
`, i)
	fmt.Fprintf(l, `---
apiVersion: v1
kind: PersistentVolumeClaim
metadata: {name: data-%[1]d, namespace: %[2]s}
spec: {accessModes: [ReadWriteOnce], resources: {requests: {storage: 1Gi}}, storageClassName: manual, volumeMode: Filesystem, volumeName: pv-%[1]d}
status: {phase: Bound}
`, i, Namespace)
}

func writeConfigMap(s *bytes.Buffer, i int) {
	fmt.Fprintf(s, `---
# Source: app/templates/configmap-%[1]d.yaml
apiVersion: v1
kind: ConfigMap
metadata:
  name: settings-%[1]d
  labels:
    app.kubernetes.io/name: app
    app.kubernetes.io/instance: bench
    helm.sh/chart: app-1.2.3
data:
  log-level: "info"
  feature-flags: "alpha,beta,gamma"
  endpoint: "https://service-%[1]d.example.internal:8443/api/v1"
  retries: "5"
`, i)
}

func writeService(s *bytes.Buffer, i int) {
	fmt.Fprintf(s, `---
# Source: app/templates/service-%[1]d.yaml
apiVersion: v1
kind: Service
metadata:
  name: service-%[1]d
  labels:
    app.kubernetes.io/name: app
    app.kubernetes.io/instance: bench
    helm.sh/chart: app-1.2.3
spec:
  type: ClusterIP
  ports:
    - port: 80
      targetPort: http
      protocol: TCP
      name: http
  selector:
    app.kubernetes.io/name: app
    app.kubernetes.io/instance: bench
`, i)
}

func writeDeployment(s *bytes.Buffer, i int) {
	fmt.Fprintf(s, `---
# Source: app/templates/deployment-%[1]d.yaml
apiVersion: apps/v1
kind: Deployment
metadata:
  name: worker-%[1]d
  labels:
    app.kubernetes.io/name: app
spec:
  replicas: 2
  selector:
    matchLabels:
      app.kubernetes.io/name: app
  template:
    metadata:
      labels:
        app.kubernetes.io/name: app
    spec:
      containers:
        - name: worker
          image: "registry.example/worker:1.2.3"
          args: ["--port=8080", "--verbose"]
          ports:
            - containerPort: 8080
              name: http
`, i)
}
