// Package benchdata generates Helm-like manifest streams and the matching
// live state for benchmarks: mostly ConfigMaps, Services and Deployments,
// with one document in a hundred a PersistentVolumeClaim that exists and is
// bound in the cluster, rendered without volumeName (the rollback case) so
// that each claim is rewritten, and one in a hundred a StatefulSet with a
// claim template. Every other StatefulSet is live with the previous chart
// version's template labels (a chart bump, so its template is rewritten);
// the rest are new to the cluster and pass through.
package benchdata

import (
	"bytes"
	"fmt"
)

// Namespace is where the generated claims live.
const Namespace = "bench"

// ClaimEvery is the spacing of claims, and of StatefulSets, in the stream:
// 1 in 100 documents each.
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
		if i%ClaimEvery == ClaimEvery/2-1 {
			writeStatefulSet(&s, &l, i, (i/ClaimEvery)%2 == 0)
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

// writeStatefulSet renders chart version 1.2.3 of a set; when live, the
// cluster holds it as the API server returns version 1.2.2: server defaults
// filled in, and the template carrying the old chart label.
func writeStatefulSet(s, l *bytes.Buffer, i int, live bool) {
	fmt.Fprintf(s, `---
# Source: app/templates/statefulset-%[1]d.yaml
apiVersion: apps/v1
kind: StatefulSet
metadata:
  name: db-%[1]d
  labels:
    app.kubernetes.io/name: db
    app.kubernetes.io/instance: bench
    helm.sh/chart: app-1.2.3
spec:
  serviceName: db-%[1]d
  replicas: 3
  selector:
    matchLabels:
      app.kubernetes.io/name: db
      app.kubernetes.io/instance: db-%[1]d
  template:
    metadata:
      labels:
        app.kubernetes.io/name: db
        app.kubernetes.io/instance: db-%[1]d
    spec:
      containers:
        - name: db
          image: "registry.example/db:16.4"
          ports:
            - containerPort: 5432
              name: sql
          volumeMounts:
            - name: data
              mountPath: /var/lib/db
  volumeClaimTemplates:
    - metadata:
        name: data
        labels:
          app.kubernetes.io/name: db
          app.kubernetes.io/instance: db-%[1]d
          helm.sh/chart: app-1.2.3
      spec:
        accessModes:
          - "ReadWriteOnce"
        resources:
          requests:
            storage: "8Gi"
`, i)
	if !live {
		return
	}
	fmt.Fprintf(l, `---
apiVersion: apps/v1
kind: StatefulSet
metadata:
  name: db-%[1]d
  namespace: %[2]s
  labels: {app.kubernetes.io/name: db, app.kubernetes.io/instance: bench, helm.sh/chart: app-1.2.2}
spec:
  podManagementPolicy: OrderedReady
  replicas: 3
  revisionHistoryLimit: 10
  selector:
    matchLabels: {app.kubernetes.io/name: db, app.kubernetes.io/instance: db-%[1]d}
  serviceName: db-%[1]d
  template:
    metadata:
      labels: {app.kubernetes.io/name: db, app.kubernetes.io/instance: db-%[1]d}
    spec:
      containers:
      - image: registry.example/db:16.4
        imagePullPolicy: IfNotPresent
        name: db
        ports: [{containerPort: 5432, name: sql, protocol: TCP}]
        volumeMounts: [{mountPath: /var/lib/db, name: data}]
      restartPolicy: Always
  updateStrategy: {rollingUpdate: {partition: 0}, type: RollingUpdate}
  volumeClaimTemplates:
  - apiVersion: v1
    kind: PersistentVolumeClaim
    metadata:
      name: data
      labels: {app.kubernetes.io/name: db, app.kubernetes.io/instance: db-%[1]d, helm.sh/chart: app-1.2.2}
    spec:
      accessModes: [ReadWriteOnce]
      resources: {requests: {storage: 8Gi}}
      volumeMode: Filesystem
    status: {phase: Pending}
status: {replicas: 3, readyReplicas: 3}
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
