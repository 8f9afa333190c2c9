package e2e

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes/scheme"

	"github.com/pvc-guard/pvc-guard/internal/testutil/testcluster"
)

func readExample(t *testing.T, dir, name string) string {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(dir, name))
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}

func decodeObjects(t *testing.T, stream string) []any {
	t.Helper()
	var objects []any
	for _, doc := range strings.Split(strings.TrimPrefix(stream, "---\n"), "\n---\n") {
		obj, _, err := scheme.Codecs.UniversalDeserializer().Decode([]byte(doc), nil, nil)
		if err != nil {
			t.Fatalf("decoding an example: %v\n%s", err, doc)
		}
		objects = append(objects, obj)
	}
	return objects
}

// createExampleObjects creates the ServiceAccounts and RBAC objects of
// example manifests as a user applying them to ns would: namespaced objects
// and every binding subject land in ns, and cluster-wide names get ns
// appended so that tests running side by side do not collide. It returns
// every object, created or not, for the caller to check or use.
func createExampleObjects(t *testing.T, c *testcluster.Cluster, ns, manifests string) []any {
	t.Helper()
	ctx, rbac := t.Context(), c.Client.RbacV1()
	unique := func(name string) string { return name + "-" + ns }
	inNamespace := func(subjects []rbacv1.Subject) {
		for i := range subjects {
			subjects[i].Namespace = ns
		}
	}
	objects := decodeObjects(t, manifests)
	for _, obj := range objects {
		var err error
		switch o := obj.(type) {
		case *rbacv1.ClusterRole:
			o.Name = unique(o.Name)
			_, err = rbac.ClusterRoles().Create(ctx, o, metav1.CreateOptions{})
			t.Cleanup(func() { _ = rbac.ClusterRoles().Delete(context.Background(), o.Name, metav1.DeleteOptions{}) })
		case *rbacv1.ClusterRoleBinding:
			o.Name, o.RoleRef.Name = unique(o.Name), unique(o.RoleRef.Name)
			inNamespace(o.Subjects)
			_, err = rbac.ClusterRoleBindings().Create(ctx, o, metav1.CreateOptions{})
			t.Cleanup(func() { _ = rbac.ClusterRoleBindings().Delete(context.Background(), o.Name, metav1.DeleteOptions{}) })
		case *corev1.ServiceAccount:
			o.Namespace = ns
			_, err = c.Client.CoreV1().ServiceAccounts(ns).Create(ctx, o, metav1.CreateOptions{})
		case *rbacv1.Role:
			o.Namespace = ns
			_, err = rbac.Roles(ns).Create(ctx, o, metav1.CreateOptions{})
		case *rbacv1.RoleBinding:
			o.Namespace = ns
			inNamespace(o.Subjects)
			_, err = rbac.RoleBindings(ns).Create(ctx, o, metav1.CreateOptions{})
		}
		if err != nil {
			t.Fatalf("creating %T from the examples: %v", obj, err)
		}
	}
	return objects
}
