package e2e

import (
	"strings"
	"testing"

	authenticationv1 "k8s.io/api/authentication/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/rest"

	"github.com/pvc-guard/pvc-guard/internal/testutil/testcluster"
	"github.com/pvc-guard/pvc-guard/live"
	"github.com/pvc-guard/pvc-guard/renderer"
)

// TestLiveClusterReadsKinds reads a StatefulSet, a PersistentVolume and a
// kind outside live's table (through discovery) from the real API server,
// and checks that a ServiceAccount allowed claims but not StatefulSets gets
// an error apierrors.IsForbidden recognises, naming the RBAC to add.
func TestLiveClusterReadsKinds(t *testing.T) {
	c := testcluster.Get(t)
	ns := c.Namespace(t)
	ctx := t.Context()
	sts, err := c.Client.AppsV1().StatefulSets(ns).Create(ctx,
		testcluster.NewStatefulSet(t, testcluster.StatefulSetOptions{Name: "db"}), metav1.CreateOptions{})
	if err != nil {
		t.Fatalf("creating a StatefulSet: %v", err)
	}
	pv := c.CreateHostPathPV(t, testcluster.VolumeOptions{})
	admin, err := live.NewCluster(c.Config)
	if err != nil {
		t.Fatal(err)
	}

	reads := []struct {
		kind renderer.GroupKind
		key  renderer.ObjectKey
		uid  string
	}{
		{renderer.GroupKind{Group: "apps", Kind: "StatefulSet"}, renderer.ObjectKey{Namespace: ns, Name: sts.Name}, string(sts.UID)},
		{renderer.GroupKind{Kind: "PersistentVolume"}, renderer.ObjectKey{Name: pv.Name}, string(pv.UID)},
		{renderer.GroupKind{Kind: "ServiceAccount"}, renderer.ObjectKey{Namespace: ns, Name: "default"}, ""}, // discovered
	}
	for _, r := range reads {
		missing := renderer.ObjectKey{Namespace: r.key.Namespace, Name: "missing"}
		found, err := admin.Objects(ctx, r.kind, []renderer.ObjectKey{r.key, missing})
		if err != nil {
			t.Fatalf("%s: %v", r.kind, err)
		}
		got := found[r.key]
		if got == nil || got.GetName() != r.key.Name || (r.uid != "" && string(got.GetUID()) != r.uid) || len(found) != 1 {
			t.Errorf("%s %s: found %v", r.kind, r.key, found)
		}
	}
	if v, err := admin.ServerVersion(ctx); err != nil || !strings.HasPrefix(v.GitVersion, "v1.") {
		t.Errorf("ServerVersion = %v, %v", v, err)
	}

	claimsOnly := claimReaderConfig(t, c, ns)
	reader, err := live.NewCluster(claimsOnly)
	if err != nil {
		t.Fatal(err)
	}
	// The control: the ServiceAccount authenticates and may read claims.
	if _, err := reader.Objects(ctx, renderer.GroupKind{Kind: "PersistentVolumeClaim"}, []renderer.ObjectKey{{Namespace: ns, Name: "data"}}); err != nil {
		t.Fatalf("reading claims as the ServiceAccount: %v", err)
	}
	_, err = reader.Objects(ctx, renderer.GroupKind{Group: "apps", Kind: "StatefulSet"}, []renderer.ObjectKey{{Namespace: ns, Name: sts.Name}})
	if !apierrors.IsForbidden(err) {
		t.Fatalf("reading a StatefulSet without RBAC: error %v, want a forbidden one", err)
	}
	for _, want := range []string{`RBAC forbids get statefulsets.apps in namespace "` + ns + `"`, `resources [statefulsets] in apiGroups ["apps"]`} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not say %q", err, want)
		}
	}
}

// claimReaderConfig returns a client config for a new ServiceAccount of ns
// that may get and list claims there, and nothing else.
func claimReaderConfig(t *testing.T, c *testcluster.Cluster, ns string) *rest.Config {
	t.Helper()
	ctx := t.Context()
	sa, err := c.Client.CoreV1().ServiceAccounts(ns).Create(ctx, &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: "claim-reader"}}, metav1.CreateOptions{})
	if err != nil {
		t.Fatalf("creating a ServiceAccount: %v", err)
	}
	role := &rbacv1.Role{
		ObjectMeta: metav1.ObjectMeta{Name: "claim-reader"},
		Rules:      []rbacv1.PolicyRule{{APIGroups: []string{""}, Resources: []string{"persistentvolumeclaims"}, Verbs: []string{"get", "list"}}},
	}
	if _, err := c.Client.RbacV1().Roles(ns).Create(ctx, role, metav1.CreateOptions{}); err != nil {
		t.Fatalf("creating a Role: %v", err)
	}
	binding := &rbacv1.RoleBinding{
		ObjectMeta: metav1.ObjectMeta{Name: "claim-reader"},
		RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "Role", Name: role.Name},
		Subjects:   []rbacv1.Subject{{Kind: rbacv1.ServiceAccountKind, Name: sa.Name, Namespace: ns}},
	}
	if _, err := c.Client.RbacV1().RoleBindings(ns).Create(ctx, binding, metav1.CreateOptions{}); err != nil {
		t.Fatalf("creating a RoleBinding: %v", err)
	}
	token, err := c.Client.CoreV1().ServiceAccounts(ns).CreateToken(ctx, sa.Name, &authenticationv1.TokenRequest{}, metav1.CreateOptions{})
	if err != nil {
		t.Fatalf("requesting a token: %v", err)
	}
	return &rest.Config{Host: c.Config.Host, TLSClientConfig: rest.TLSClientConfig{CAData: c.Config.CAData, CAFile: c.Config.CAFile}, BearerToken: token.Status.Token}
}
