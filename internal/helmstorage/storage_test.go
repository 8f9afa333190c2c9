package helmstorage

import (
	"encoding/base64"
	"strconv"
	"strings"
	"testing"

	"helm.sh/helm/v4/pkg/release/common"
	release "helm.sh/helm/v4/pkg/release/v1"
	"helm.sh/helm/v4/pkg/storage"
	"helm.sh/helm/v4/pkg/storage/driver"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	dynamicfake "k8s.io/client-go/dynamic/fake"
	"k8s.io/client-go/kubernetes/fake"
)

// revision is one release revision for Helm to store.
type revision struct {
	namespace, name string
	version         int
	status          common.Status
}

// helmRecords has Helm's own storage driver write the revisions into a fake
// API server, and returns what a client listing them would get.
func helmRecords(t *testing.T, driverName string, revisions []revision) []runtime.Object {
	t.Helper()
	clients := fake.NewClientset()
	var objects []runtime.Object
	for _, r := range revisions {
		var d driver.Driver = driver.NewSecrets(clients.CoreV1().Secrets(r.namespace))
		if driverName == "configmap" {
			d = driver.NewConfigMaps(clients.CoreV1().ConfigMaps(r.namespace))
		}
		rel := &release.Release{
			Name: r.name, Namespace: r.namespace, Version: r.version,
			Info:     &release.Info{Status: r.status},
			Manifest: manifestOf(r.name, r.version),
		}
		if err := storage.Init(d).Create(rel); err != nil {
			t.Fatal(err)
		}
	}
	secrets, _ := clients.CoreV1().Secrets("").List(t.Context(), metav1.ListOptions{})
	for i := range secrets.Items {
		objects = append(objects, unstructuredOf(t, "Secret", &secrets.Items[i]))
	}
	configMaps, _ := clients.CoreV1().ConfigMaps("").List(t.Context(), metav1.ListOptions{})
	for i := range configMaps.Items {
		objects = append(objects, unstructuredOf(t, "ConfigMap", &configMaps.Items[i]))
	}
	return objects
}

func manifestOf(name string, version int) string {
	return "# " + name + " revision " + strconv.Itoa(version) + "\n"
}

// unstructuredOf is obj as the API server sends it (Secret data in base64).
func unstructuredOf(t *testing.T, kind string, obj runtime.Object) *unstructured.Unstructured {
	t.Helper()
	m, err := runtime.DefaultUnstructuredConverter.ToUnstructured(obj)
	if err != nil {
		t.Fatal(err)
	}
	u := &unstructured.Unstructured{Object: m}
	u.SetAPIVersion("v1")
	u.SetKind(kind)
	return u
}

// handWritten is a release record written by hand: data is the "release" value
// before Kubernetes' Secret encoding.
func handWritten(namespace, name, data string) *unstructured.Unstructured {
	secret := &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Name: "sh.helm.release.v1." + name + ".hand", Namespace: namespace, Labels: map[string]string{"name": name, "owner": "helm"}},
		Data:       map[string][]byte{"release": []byte(data)},
	}
	m, _ := runtime.DefaultUnstructuredConverter.ToUnstructured(secret)
	u := &unstructured.Unstructured{Object: m}
	u.SetAPIVersion("v1")
	u.SetKind("Secret")
	return u
}

func TestLastManifest(t *testing.T) {
	history := []revision{
		{"apps", "app", 1, common.StatusSuperseded},
		{"apps", "app", 3, common.StatusFailed},
		{"apps", "app", 2, common.StatusDeployed},
		{"apps", "other", 4, common.StatusDeployed},
		{"elsewhere", "app", 5, common.StatusDeployed},
	}
	uncompressed := base64.StdEncoding.EncodeToString([]byte(`{"name":"app","version":6,"manifest":"# from before Helm compressed records\n"}`))
	tests := []struct {
		name      string
		driver    string // $HELM_DRIVER
		stored    string // the driver Helm stored with
		extra     []runtime.Object
		release   string
		want      string
		wantError string
	}{
		{name: "the latest revision, whatever its status", stored: "secret", release: "app", want: manifestOf("app", 3)},
		{name: "HELM_DRIVER=secrets", driver: "secrets", stored: "secret", release: "app", want: manifestOf("app", 3)},
		{name: "HELM_DRIVER=configmap", driver: "configmap", stored: "configmap", release: "app", want: manifestOf("app", 3)},
		{name: "HELM_DRIVER=configmaps", driver: "configmaps", stored: "configmap", release: "app", want: manifestOf("app", 3)},
		{name: "records in the other storage do not count", driver: "configmap", stored: "secret", release: "app", wantError: "release: not found"},
		{name: "unknown release", stored: "secret", release: "nope", wantError: "release: not found"},
		{name: "undecodable records are skipped", stored: "secret", extra: []runtime.Object{handWritten("apps", "app", "not base64!")}, release: "app", want: manifestOf("app", 3)},
		{name: "a release with only undecodable records", stored: "secret", extra: []runtime.Object{handWritten("apps", "broken", "bm90IGd6aXAgbm9yIEpTT04=")}, release: "broken", wantError: `no revision for release "broken"`},
		{name: "an uncompressed record", stored: "secret", extra: []runtime.Object{handWritten("apps", "app", uncompressed)}, release: "app", want: "# from before Helm compressed records\n"},
		{name: "an invalid release name", stored: "secret", release: "no spaces", wantError: `invalid release name "no spaces"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			objects := append(helmRecords(t, tt.stored, history), tt.extra...)
			client := dynamicfake.NewSimpleDynamicClientWithCustomListKinds(runtime.NewScheme(),
				map[schema.GroupVersionResource]string{secrets: "SecretList", configMaps: "ConfigMapList"}, objects...)
			store, err := NewStorage(client, tt.driver, "apps")
			if err != nil {
				t.Fatal(err)
			}
			got, err := store.LastManifest(t.Context(), tt.release)
			switch {
			case tt.wantError != "":
				if err == nil || !strings.Contains(err.Error(), tt.wantError) {
					t.Errorf("got %q, %v; want an error with %q", got, err, tt.wantError)
				}
			case err != nil:
				t.Fatal(err)
			case got != tt.want:
				t.Errorf("manifest %q, want %q", got, tt.want)
			}
		})
	}
}

func TestNewStorageRefusesOtherDrivers(t *testing.T) {
	tests := []struct{ driver, want string }{
		{"memory", `HELM_DRIVER=memory: pvc-guard reads releases Helm stores in Secrets or ConfigMaps; pipe "helm get manifest RELEASE"`},
		{"sql", "HELM_DRIVER=sql: pvc-guard reads releases Helm stores in Secrets or ConfigMaps"},
		{"etcd", `unknown driver "etcd"`},
	}
	for _, tt := range tests {
		t.Run(tt.driver, func(t *testing.T) {
			_, err := NewStorage(dynamicfake.NewSimpleDynamicClient(runtime.NewScheme()), tt.driver, "apps")
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("got %v, want %q", err, tt.want)
			}
		})
	}
}
