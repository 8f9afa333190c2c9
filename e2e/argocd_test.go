package e2e

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	authenticationv1 "k8s.io/api/authentication/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/kustomize/kyaml/kio"
	"sigs.k8s.io/yaml"

	"github.com/pvc-guard/pvc-guard/internal/testutil/testcluster"
)

// TestArgoCDPluginGenerate is acceptance 2: the ConfigManagementPlugin's
// init and generate commands, run as the cmp sidecar runs them (in the
// chart's directory, with the environment the cmp server gives them: the
// sidecar's from repo-server-patch.yaml, the ARGOCD_* and KUBE_* variables
// and the parameters, empty ones dropped), reach the real API server with
// a token of the stock argocd-repo-server ServiceAccount, bound read-only
// by examples/argocd/rbac.yaml, through examples/argocd's kubeconfig. They
// render as Argo CD's own Helm source does: an app in any namespace
// (argocd_x) is release x, the chart's crds/ are included, the cluster's
// API versions and version reach .Capabilities, and the values-files and
// set parameters apply; the release-name parameter names the release.
func TestArgoCDPluginGenerate(t *testing.T) {
	c := testcluster.Get(t)
	ns := c.Namespace(t)
	claim := bindClaim(t, c, ns, "x-data")
	version, err := c.Client.Discovery().ServerVersion()
	if err != nil {
		t.Fatal(err)
	}
	env := cmpServerEnv(t, c, ns)
	request := map[string]string{
		"ARGOCD_APP_NAME":      "argocd_x",
		"ARGOCD_APP_NAMESPACE": ns,
		"ARGOCD_APP_REVISION":  "0123456789abcdef0123456789abcdef01234567",
		"KUBE_VERSION":         version.GitVersion,
		// The cluster's API versions as Argo CD lists them, with the chart's
		// own CRD as once it is installed.
		"KUBE_API_VERSIONS":     servedAPIVersions(t, c) + ",example.pvc-guard.dev/v1,example.pvc-guard.dev/v1/Thing",
		"ARGOCD_APP_PARAMETERS": `[{"name":"values-files","array":["values argocd.yaml","","values-extra.yaml"]},{"name":"set","array":["setting=from-set"]}]`,
		"PARAM_VALUES_FILES_0":  "values argocd.yaml",
		"PARAM_VALUES_FILES_1":  "", // an empty element, which the cmp server drops
		"PARAM_VALUES_FILES_2":  "values-extra.yaml",
		"PARAM_SET_0":           "setting=from-set",
	}
	chart := argoCDChart(t)
	out, stderr := generate(t, chart, env, request)
	objects := objectsOf(t, out)
	if got, _, _ := unstructured.NestedString(objects["PersistentVolumeClaim/x-data"], "spec", "volumeName"); got != claim.Spec.VolumeName {
		t.Errorf("claim x-data has volumeName %q, want the live %q:\n%s", got, claim.Spec.VolumeName, out)
	}
	if !strings.Contains(stderr, ns+"/x-data spec.volumeName") {
		t.Errorf("pvc-guard's summary is missing from stderr:\n%s", stderr)
	}
	if objects["CustomResourceDefinition/things.example.pvc-guard.dev"] == nil {
		t.Errorf("the chart's crds/ are not in the manifests:\n%s", out)
	}
	want := map[string]string{
		"ConfigMap/x-settings:message":   "from-values-file",
		"ConfigMap/x-argocd:extra":       "from-the-second-values-file",
		"ConfigMap/x-argocd:setting":     "from-set",
		"ConfigMap/x-argocd:thingServed": "true",
		"ConfigMap/x-argocd:kubeVersion": version.GitVersion,
	}
	for where, value := range want {
		object, key, _ := strings.Cut(where, ":")
		if got, _, _ := unstructured.NestedString(objects[object], "data", key); got != value {
			t.Errorf("%s data.%s = %q, want %q", object, key, got, value)
		}
	}

	t.Run("release-name parameter", func(t *testing.T) {
		request["PARAM_RELEASE_NAME"] = "app"
		out, _ := generate(t, chart, env, request)
		objects := objectsOf(t, out)
		if objects["ConfigMap/app-settings"] == nil || objects["PersistentVolumeClaim/app-data"] == nil {
			t.Errorf("release-name app: want app-settings and app-data, got:\n%s", out)
		}
	})
}

// generate runs plugin.yaml's init and generate in chart with env and the
// request's variables, as the cmp server does, and returns generate's
// stdout, checked to be manifests only, and stderr.
func generate(t *testing.T, chart string, env []string, request map[string]string) (string, string) {
	t.Helper()
	for name, value := range request {
		if value != "" { // cmpserver/plugin drops empty variables
			env = append(env, name+"="+value)
		}
	}
	plugin := examplePlugin(t)
	var r testcluster.Result
	for _, step := range []pluginCommand{plugin.Spec.Init, plugin.Spec.Generate} {
		cmd := exec.Command(step.Command[0], append(step.Command[1:], step.Args...)...)
		cmd.Dir = chart
		r = run(cmd, env, "")
		succeeded(t, "plugin "+strings.Join(step.Args, " "), nil, r)
	}
	assertOnlyManifests(t, r.Stdout)
	return r.Stdout, r.Stderr
}

// cmpServerEnv is the sidecar's environment in the pod, pointing at this
// cluster: its container env from repo-server-patch.yaml, tools on PATH,
// and the projected volume's files, with a token of ServiceAccount
// argocd-repo-server in ns bound as examples/argocd/rbac.yaml binds it.
func cmpServerEnv(t *testing.T, c *testcluster.Cluster, ns string) []string {
	t.Helper()
	secrets, tmp := t.TempDir(), t.TempDir()
	inPod := strings.NewReplacer("/var/run/secrets/pvc-guard", secrets, "https://kubernetes.default.svc", c.Config.Host, "/tmp", tmp)
	token, err := c.Client.CoreV1().ServiceAccounts(ns).CreateToken(t.Context(), applyArgoCDRBAC(t, c, ns), &authenticationv1.TokenRequest{}, metav1.CreateOptions{})
	if err != nil {
		t.Fatalf("requesting the ServiceAccount's token: %v", err)
	}
	writeOutput(t, filepath.Join(secrets, "token"), token.Status.Token)
	writeOutput(t, filepath.Join(secrets, "ca.crt"), string(c.Config.CAData))
	writeOutput(t, filepath.Join(secrets, "kubeconfig"), inPod.Replace(exampleConfigMapData(t, "kubeconfig.yaml", "kubeconfig")))
	env := []string{
		"PATH=" + tools(t, map[string]string{"helm": c.Helm(t, testcluster.Helm3).Bin, "pvc-guard": pvcGuardBinary(t)}) + ":/usr/bin:/bin",
		"HOME=" + t.TempDir(),
	}
	for _, e := range sidecar(t).Env {
		env = append(env, e.Name+"="+inPod.Replace(e.Value))
	}
	return env
}

// argoCDChart is testdata/charts/app with what Argo CD's Helm source
// handles and a plain helm template would not: a crds/ directory, a
// template that asks .Capabilities, and values files to name as parameters.
func argoCDChart(t *testing.T) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "app")
	if err := os.CopyFS(dir, os.DirFS(appChart)); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(filepath.Join(dir, "crds"), 0o755); err != nil {
		t.Fatal(err)
	}
	files := map[string]string{
		"crds/things.yaml": `apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: things.example.pvc-guard.dev
spec:
  group: example.pvc-guard.dev
  names: {kind: Thing, plural: things}
  scope: Namespaced
  versions:
    - name: v1
      served: true
      storage: true
      schema: {openAPIV3Schema: {type: object}}
`,
		"templates/argocd.yaml": `apiVersion: v1
kind: ConfigMap
metadata:
  name: {{ .Release.Name }}-argocd
data:
  thingServed: {{ .Capabilities.APIVersions.Has "example.pvc-guard.dev/v1/Thing" | quote }}
  kubeVersion: {{ .Capabilities.KubeVersion.Version | quote }}
  setting: {{ .Values.setting | default "" | quote }}
  extra: {{ .Values.extra | default "" | quote }}
`,
		"values argocd.yaml": "message: from-values-file\n",
		"values-extra.yaml":  "extra: from-the-second-values-file\n",
	}
	for name, data := range files {
		writeOutput(t, filepath.Join(dir, name), data)
	}
	return dir
}

// servedAPIVersions lists what the API server serves as Argo CD passes it
// in KUBE_API_VERSIONS: each group/version and each group/version/Kind.
func servedAPIVersions(t *testing.T, c *testcluster.Cluster) string {
	t.Helper()
	_, lists, err := c.Client.Discovery().ServerGroupsAndResources()
	if err != nil {
		t.Fatal(err)
	}
	var versions []string
	for _, list := range lists {
		versions = append(versions, list.GroupVersion)
		for _, res := range list.APIResources {
			if !strings.Contains(res.Name, "/") { // not a subresource
				versions = append(versions, list.GroupVersion+"/"+res.Kind)
			}
		}
	}
	return strings.Join(versions, ",")
}

// objectsOf indexes a manifest stream's objects by "Kind/name".
func objectsOf(t *testing.T, stream string) map[string]map[string]any {
	t.Helper()
	objects := map[string]map[string]any{}
	for _, doc := range strings.Split(stream, "\n---") {
		var obj unstructured.Unstructured
		if err := yaml.Unmarshal([]byte(doc), &obj.Object); err != nil {
			t.Fatalf("decoding generate's output: %v\n%s", err, doc)
		}
		if obj.Object != nil {
			objects[obj.GetKind()+"/"+obj.GetName()] = obj.Object
		}
	}
	return objects
}

// assertOnlyManifests checks that every document of out is a Kubernetes
// object: Argo CD reads generate's whole stdout as manifests.
func assertOnlyManifests(t *testing.T, out string) {
	t.Helper()
	nodes, err := (&kio.ByteReader{Reader: strings.NewReader(out), OmitReaderAnnotations: true, DisableUnwrapping: true}).Read()
	if err != nil || len(nodes) == 0 {
		t.Fatalf("generate's stdout is not a manifest stream (%v):\n%s", err, out)
	}
	for _, node := range nodes {
		if node.GetApiVersion() == "" || node.GetKind() == "" || node.GetName() == "" {
			t.Errorf("not a Kubernetes object in generate's stdout:\n%s", node.MustString())
		}
	}
}

// exampleConfigMapData returns one data entry of a ConfigMap in examples/argocd.
func exampleConfigMapData(t *testing.T, file, key string) string {
	t.Helper()
	var cm corev1.ConfigMap
	if err := yaml.Unmarshal([]byte(readExample(t, argoCDExample, file)), &cm); err != nil {
		t.Fatal(err)
	}
	return cm.Data[key]
}

// pluginCommand is a command of a ConfigManagementPlugin.
type pluginCommand struct {
	Command []string `json:"command"`
	Args    []string `json:"args"`
}

func examplePlugin(t *testing.T) (plugin struct {
	Spec struct {
		Init     pluginCommand `json:"init"`
		Generate pluginCommand `json:"generate"`
	} `json:"spec"`
}) {
	t.Helper()
	if err := yaml.Unmarshal([]byte(readExample(t, argoCDExample, "plugin.yaml")), &plugin); err != nil {
		t.Fatal(err)
	}
	if len(plugin.Spec.Generate.Command) == 0 {
		t.Fatal("plugin.yaml has no generate command")
	}
	return plugin
}

// applyArgoCDRBAC creates examples/rbac.yaml's ClusterRole, the stock
// argocd-repo-server ServiceAccount in ns, as Argo CD's install does, and
// examples/argocd/rbac.yaml's binding to it (cluster-wide names made unique
// to ns), and returns the ServiceAccount's name.
func applyArgoCDRBAC(t *testing.T, c *testcluster.Cluster, ns string) string {
	t.Helper()
	const serviceAccount = "argocd-repo-server"
	if _, err := c.Client.CoreV1().ServiceAccounts(ns).Create(t.Context(), &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: serviceAccount}}, metav1.CreateOptions{}); err != nil {
		t.Fatalf("creating ServiceAccount: %v", err)
	}
	for _, obj := range createExampleObjects(t, c, ns, readExample(t, "../examples", "rbac.yaml")+"\n---\n"+readExample(t, argoCDExample, "rbac.yaml")) {
		switch o := obj.(type) {
		case *rbacv1.ClusterRole:
		case *rbacv1.ClusterRoleBinding:
			for _, subject := range o.Subjects {
				if subject.Name != serviceAccount {
					t.Fatalf("examples/argocd/rbac.yaml binds %s, not Argo CD's %s", subject.Name, serviceAccount)
				}
			}
		default:
			t.Fatalf("unexpected object in the RBAC examples: %T", obj)
		}
	}
	return serviceAccount
}
