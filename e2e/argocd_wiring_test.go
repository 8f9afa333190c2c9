package e2e

import (
	"path/filepath"
	"slices"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	"sigs.k8s.io/yaml"

	"github.com/pvc-guard/pvc-guard/internal/testutil/gitopstest"
)

// TestArgoCDComponentWiring builds examples/argocd as a kustomize Component
// over a stand-in argocd-repo-server and checks that the token, the CA and
// the kubeconfig reach the sidecar where the kubeconfig names them, that the
// pod keeps Argo CD's ServiceAccount, which rbac.yaml binds, with no token
// mounted, and that the sidecar serves plugin.yaml, which discovers nothing.
func TestArgoCDComponentWiring(t *testing.T) {
	pod := argoCDPod(t)
	sc := sidecar(t)
	kubeconfig := envValue(sc.Env, "KUBECONFIG")
	mountDir := filepath.Dir(kubeconfig)
	var projected *corev1.ProjectedVolumeSource
	for _, m := range sc.VolumeMounts {
		if m.MountPath == mountDir {
			projected = volumeNamed(pod.Spec.Volumes, m.Name).Projected
		}
	}
	if projected == nil {
		t.Fatalf("no projected volume mounted at %s, the directory of KUBECONFIG", mountDir)
	}
	files := map[string]string{} // path in the volume -> where it comes from
	for _, source := range projected.Sources {
		switch {
		case source.ServiceAccountToken != nil:
			files[source.ServiceAccountToken.Path] = "token"
		case source.ConfigMap != nil:
			for _, item := range source.ConfigMap.Items {
				files[item.Path] = source.ConfigMap.Name + "/" + item.Key
			}
		}
	}
	config := exampleConfigMapData(t, "kubeconfig.yaml", "kubeconfig")
	want := map[string]string{
		filepath.Base(kubeconfig): "pvc-guard-kubeconfig/kubeconfig",
		"token":                   "token",
		"ca.crt":                  "kube-root-ca.crt/ca.crt",
	}
	for path, source := range want {
		if files[path] != source {
			t.Errorf("the projected volume's %s comes from %q, want %q", path, files[path], source)
		}
		if path != filepath.Base(kubeconfig) && !strings.Contains(config, filepath.Join(mountDir, path)) {
			t.Errorf("the kubeconfig does not name %s", filepath.Join(mountDir, path))
		}
	}
	if pod.Spec.ServiceAccountName != "argocd-repo-server" || pod.Spec.AutomountServiceAccountToken == nil || *pod.Spec.AutomountServiceAccountToken {
		t.Errorf("pod runs as %q with automount %v; want Argo CD's argocd-repo-server with no automounted token", pod.Spec.ServiceAccountName, pod.Spec.AutomountServiceAccountToken)
	}
	var binding *rbacv1.ClusterRoleBinding
	for _, obj := range argoCDBuild(t) {
		if b, ok := obj.(*rbacv1.ClusterRoleBinding); ok {
			binding = b
		}
	}
	if binding == nil || len(binding.Subjects) != 1 || binding.Subjects[0].Name != pod.Spec.ServiceAccountName || binding.Subjects[0].Namespace != "argocd" {
		t.Errorf("the Component binds %+v, want the pod's ServiceAccount argocd/%s", binding, pod.Spec.ServiceAccountName)
	}
	if !slices.ContainsFunc(sc.VolumeMounts, func(m corev1.VolumeMount) bool {
		return m.MountPath == "/home/argocd/cmp-server/config/plugin.yaml" && m.SubPath == "plugin.yaml"
	}) {
		t.Errorf("plugin.yaml is not mounted where argocd-cmp-server reads it")
	}
	var plugin struct {
		Spec map[string]any `json:"spec"`
	}
	if err := yaml.Unmarshal([]byte(readExample(t, argoCDExample, "plugin.yaml")), &plugin); err != nil {
		t.Fatal(err)
	}
	if _, ok := plugin.Spec["discover"]; ok {
		t.Errorf("plugin.yaml has a discover rule: it would render every Helm Application that names no source type")
	}
}

// argoCDBuild is examples/argocd built as a Component over a stand-in for
// Argo CD's argocd-repo-server.
func argoCDBuild(t *testing.T) []any {
	t.Helper()
	dir := t.TempDir()
	component, err := filepath.Abs(argoCDExample)
	if err != nil {
		t.Fatal(err)
	}
	rel, err := filepath.Rel(dir, component)
	if err != nil {
		t.Fatal(err)
	}
	writeOutput(t, filepath.Join(dir, "kustomization.yaml"), "namespace: argocd\nresources: [repo-server.yaml]\ncomponents: ["+rel+"]\n")
	writeOutput(t, filepath.Join(dir, "repo-server.yaml"), standInRepoServer)
	built, err := gitopstest.Build(dir)
	if err != nil {
		t.Fatalf("building the Component: %v", err)
	}
	return decodeObjects(t, string(built))
}

// argoCDPod is the repo server's pod template once examples/argocd has
// patched the stand-in.
func argoCDPod(t *testing.T) corev1.PodTemplateSpec {
	t.Helper()
	for _, obj := range argoCDBuild(t) {
		if d, ok := obj.(*appsv1.Deployment); ok && d.Name == "argocd-repo-server" {
			return d.Spec.Template
		}
	}
	t.Fatal("the build has no argocd-repo-server Deployment")
	return corev1.PodTemplateSpec{}
}

// standInRepoServer has what the pvc-guard sidecar relies on in Argo CD's
// argocd-repo-server: the var-files and plugins volumes, no token.
const standInRepoServer = `apiVersion: apps/v1
kind: Deployment
metadata:
  name: argocd-repo-server
spec:
  selector: {matchLabels: {app.kubernetes.io/name: argocd-repo-server}}
  template:
    metadata: {labels: {app.kubernetes.io/name: argocd-repo-server}}
    spec:
      serviceAccountName: argocd-repo-server
      automountServiceAccountToken: false
      containers:
        - name: argocd-repo-server
          image: quay.io/argoproj/argocd
      volumes:
        - {name: var-files, emptyDir: {}}
        - {name: plugins, emptyDir: {}}
`

// sidecar is the pvc-guard container of the patched repo server.
func sidecar(t *testing.T) corev1.Container {
	t.Helper()
	for _, c := range argoCDPod(t).Spec.Containers {
		if c.Name == "pvc-guard" {
			return c
		}
	}
	t.Fatal("repo-server-patch.yaml adds no pvc-guard container")
	return corev1.Container{}
}

func volumeNamed(volumes []corev1.Volume, name string) corev1.Volume {
	for _, v := range volumes {
		if v.Name == name {
			return v
		}
	}
	return corev1.Volume{}
}

func envValue(env []corev1.EnvVar, name string) string {
	for _, e := range env {
		if e.Name == name {
			return e.Value
		}
	}
	return ""
}

// TestArgoCDHelmValuesMatchTheComponent: examples/argocd/values.yaml, the
// recipe for Argo CD installed with the argo-helm chart, holds the same
// plugin (as the chart's configs.cmp renders it into argocd-cmp-cm), the
// same sidecar and volumes (its plugin.yaml mounted from argocd-cmp-cm),
// and the same kubeconfig and binding as the kustomize Component.
func TestArgoCDHelmValuesMatchTheComponent(t *testing.T) {
	var values struct {
		Configs struct {
			Cmp struct {
				Create  bool           `json:"create"`
				Plugins map[string]any `json:"plugins"`
			} `json:"cmp"`
		} `json:"configs"`
		RepoServer struct {
			ExtraContainers []corev1.Container `json:"extraContainers"`
			Volumes         []corev1.Volume    `json:"volumes"`
		} `json:"repoServer"`
		ExtraObjects []any `json:"extraObjects"`
	}
	if err := yaml.UnmarshalStrict([]byte(readExample(t, argoCDExample, "values.yaml")), &values); err != nil {
		t.Fatal(err)
	}
	const key = "helm-pvc-guard"
	var plugin any
	if err := yaml.Unmarshal([]byte(readExample(t, argoCDExample, "plugin.yaml")), &plugin); err != nil {
		t.Fatal(err)
	}
	rendered := map[string]any{ // argo-helm's templates/argocd-configs/argocd-cmp-cm.yaml
		"apiVersion": "argoproj.io/v1alpha1", "kind": "ConfigManagementPlugin",
		"metadata": map[string]any{"name": key}, "spec": values.Configs.Cmp.Plugins[key],
	}
	if !values.Configs.Cmp.Create || len(values.Configs.Cmp.Plugins) != 1 || !equality.Semantic.DeepEqual(rendered, plugin) {
		t.Errorf("configs.cmp does not render plugin.yaml:\n%v\nwant\n%v", rendered, plugin)
	}

	// The Component's sidecar and volumes, with plugin.yaml from argocd-cmp-cm.
	want := sidecar(t)
	for i, m := range want.VolumeMounts {
		if m.SubPath == "plugin.yaml" {
			want.VolumeMounts[i].Name, want.VolumeMounts[i].SubPath = "argocd-cmp-cm", key+".yaml"
		}
	}
	if len(values.RepoServer.ExtraContainers) != 1 || !equality.Semantic.DeepEqual(values.RepoServer.ExtraContainers[0], want) {
		t.Errorf("repoServer.extraContainers:\n%+v\nwant the Component's sidecar:\n%+v", values.RepoServer.ExtraContainers, want)
	}
	var volumes []corev1.Volume
	for _, v := range argoCDPod(t).Spec.Volumes {
		switch v.Name {
		case "var-files", "plugins": // Argo CD's own
		case "pvc-guard-plugin":
			volumes = append(volumes, corev1.Volume{Name: "argocd-cmp-cm", VolumeSource: corev1.VolumeSource{ConfigMap: &corev1.ConfigMapVolumeSource{LocalObjectReference: corev1.LocalObjectReference{Name: "argocd-cmp-cm"}}}})
		default:
			volumes = append(volumes, v)
		}
	}
	if !equality.Semantic.DeepEqual(values.RepoServer.Volumes, volumes) {
		t.Errorf("repoServer.volumes:\n%+v\nwant the Component's:\n%+v", values.RepoServer.Volumes, volumes)
	}

	var objects []any
	for _, file := range []string{"kubeconfig.yaml", "rbac.yaml"} {
		var obj any
		if err := yaml.Unmarshal([]byte(readExample(t, argoCDExample, file)), &obj); err != nil {
			t.Fatal(err)
		}
		objects = append(objects, obj)
	}
	if !equality.Semantic.DeepEqual(values.ExtraObjects, objects) {
		t.Errorf("extraObjects:\n%v\nwant kubeconfig.yaml and rbac.yaml:\n%v", values.ExtraObjects, objects)
	}
}
