package e2e

import (
	"context"
	"testing"

	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/pvc-guard/pvc-guard/internal/testutil/testcluster"
)

// TestExpandVolumesRBAC runs --expand-volumes as a ServiceAccount that has
// only what Helm needs for the db chart (no delete of StatefulSets, no
// pods, no patch of claims) plus examples/rbac.yaml and
// examples/rbac-expand-volumes.yaml: the README's RBAC is enough.
func TestExpandVolumesRBAC(t *testing.T) {
	for _, version := range helms {
		t.Run(string(version), func(t *testing.T) {
			t.Parallel()
			d := installDB(t, version, true)
			d.Env = append(d.Env, "KUBECONFIG="+expandVolumesKubeconfig(t, d.c, d.ns))
			if res := d.upgrade("--set", "persistence.size=2Gi", "--expand-volumes"); res.Err != nil {
				t.Fatalf("pvc-guard upgrade --expand-volumes as the deployer: %v", res.Err)
			}
			d.assertClaims("2Gi")
			d.assertSet("2Gi")
		})
	}
}

// expandVolumesKubeconfig creates ServiceAccount deployer in ns with Helm's
// Role for the chart and the examples' ClusterRoles (names made unique to
// ns) bound cluster-wide, and returns its kubeconfig.
func expandVolumesKubeconfig(t *testing.T, c *testcluster.Cluster, ns string) string {
	t.Helper()
	ctx, rbac := t.Context(), c.Client.RbacV1()
	kubeconfig := serviceAccountKubeconfig(t, c, ns, "deployer")
	subject := []rbacv1.Subject{{Kind: "ServiceAccount", Name: "deployer", Namespace: ns}}
	helm := &rbacv1.Role{ObjectMeta: metav1.ObjectMeta{Name: "helm"}, Rules: []rbacv1.PolicyRule{
		{APIGroups: []string{""}, Resources: []string{"secrets", "configmaps", "services"}, Verbs: []string{"*"}},
		{APIGroups: []string{"apps"}, Resources: []string{"statefulsets"}, Verbs: []string{"get", "list", "watch", "create", "update", "patch"}},
	}}
	if _, err := rbac.Roles(ns).Create(ctx, helm, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	binding := &rbacv1.RoleBinding{ObjectMeta: metav1.ObjectMeta{Name: "helm"}, Subjects: subject,
		RoleRef: rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "Role", Name: "helm"}}
	if _, err := rbac.RoleBindings(ns).Create(ctx, binding, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	for _, obj := range decodeObjects(t, readExample(t, "../examples", "rbac.yaml")+"\n---\n"+readExample(t, "../examples", "rbac-expand-volumes.yaml")) {
		role, ok := obj.(*rbacv1.ClusterRole)
		if !ok {
			t.Fatalf("unexpected object in the RBAC examples: %T", obj)
		}
		role.Name += "-" + ns
		if _, err := rbac.ClusterRoles().Create(ctx, role, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = rbac.ClusterRoles().Delete(context.Background(), role.Name, metav1.DeleteOptions{}) })
		binding := &rbacv1.ClusterRoleBinding{ObjectMeta: metav1.ObjectMeta{Name: role.Name}, Subjects: subject,
			RoleRef: rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: role.Name}}
		if _, err := rbac.ClusterRoleBindings().Create(ctx, binding, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() {
			_ = rbac.ClusterRoleBindings().Delete(context.Background(), binding.Name, metav1.DeleteOptions{})
		})
	}
	return kubeconfig
}
