package live

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/rest"

	"github.com/pvc-guard/pvc-guard/renderer"
)

// discoveryServer answers discovery as an API server that serves the
// group example.com in v1 (preferred) and v1beta1, where only v1beta1 has
// Widgets, and counts the requests by path.
func discoveryServer(t *testing.T) (*httptest.Server, map[string]int) {
	t.Helper()
	var mu sync.Mutex
	seen := map[string]int{}
	bodies := map[string]string{
		"/version": `{"major":"1","minor":"34","gitVersion":"v1.34.12"}`,
		"/apis": `{"kind":"APIGroupList","groups":[{"name":"example.com","versions":[{"groupVersion":"example.com/v1","version":"v1"},{"groupVersion":"example.com/v1beta1","version":"v1beta1"}],
			"preferredVersion":{"groupVersion":"example.com/v1","version":"v1"}}]}`,
		"/apis/example.com/v1": `{"kind":"APIResourceList","groupVersion":"example.com/v1","resources":[{"name":"gadgets","namespaced":true,"kind":"Gadget"}]}`,
		"/apis/example.com/v1beta1": `{"kind":"APIResourceList","groupVersion":"example.com/v1beta1","resources":[
			{"name":"widgets/status","namespaced":true,"kind":"Widget"},{"name":"widgets","namespaced":false,"kind":"Widget"}]}`,
		"/api/v1": `{"kind":"APIResourceList","groupVersion":"v1","resources":[{"name":"serviceaccounts","namespaced":true,"kind":"ServiceAccount"}]}`,
	}
	server := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		seen[r.URL.Path]++
		mu.Unlock()
		body, ok := bodies[r.URL.Path]
		if !ok {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(body))
	}))
	t.Cleanup(server.Close)
	return server, seen
}

func discoveryClient(t *testing.T, server *httptest.Server) rest.Interface {
	t.Helper()
	config := &rest.Config{Host: server.URL}
	httpClient, err := rest.HTTPClientFor(config)
	if err != nil {
		t.Fatal(err)
	}
	client, err := NewDiscoveryClient(config, httpClient)
	if err != nil {
		t.Fatal(err)
	}
	return client
}

func TestKindsOutsideTheTableAreDiscovered(t *testing.T) {
	widgets := schema.GroupVersionResource{Group: "example.com", Version: "v1beta1", Resource: "widgets"}
	accounts := schema.GroupVersionResource{Version: "v1", Resource: "serviceaccounts"}
	client := fakeAPIServer(map[schema.GroupVersionResource]string{widgets: "WidgetList", accounts: "ServiceAccountList"},
		object("example.com/v1beta1", "Widget", map[string]any{"name": "w"}),
		object("v1", "ServiceAccount", map[string]any{"namespace": "a", "name": "deployer"}))
	server, seen := discoveryServer(t)
	c := &Cluster{Client: client, Discovery: discoveryClient(t, server), Host: server.URL}
	ctx := context.Background()

	widgetKind := renderer.GroupKind{Group: "example.com", Kind: "Widget"}
	for range 2 { // the second time from what the first discovered
		found, err := c.Objects(ctx, widgetKind, []renderer.ObjectKey{key("", "w")})
		if err != nil {
			t.Fatal(err)
		}
		if found[key("", "w")] == nil {
			t.Errorf("Widget w not found: %v", found)
		}
	}
	found, err := c.Objects(ctx, renderer.GroupKind{Kind: "ServiceAccount"}, []renderer.ObjectKey{key("a", "deployer")})
	if err != nil || found[key("a", "deployer")] == nil {
		t.Errorf("ServiceAccount a/deployer: found %v, %v", found, err)
	}
	// A kind the server does not serve has no live objects.
	for _, kind := range []renderer.GroupKind{{Group: "example.com", Kind: "Gizmo"}, {Group: "nowhere.io", Kind: "Widget"}} {
		found, err := c.Objects(ctx, kind, []renderer.ObjectKey{key("a", "w")})
		if err != nil || len(found) != 0 {
			t.Errorf("%s: found %v, %v; want nothing and no error", kind, found, err)
		}
	}
	want := map[string]int{"/apis": 1, "/apis/example.com/v1": 2, "/apis/example.com/v1beta1": 2, "/api/v1": 1}
	for path, n := range want {
		if seen[path] != n {
			t.Errorf("GET %s %d times, want %d (all: %v)", path, seen[path], n, seen)
		}
	}
	if got := strings.Join(requests(client), ", "); got != "get serviceaccounts a, get widgets.example.com, get widgets.example.com" {
		t.Errorf("requests = %s", got)
	}
}

func TestBuiltinKindsNeedNoDiscovery(t *testing.T) {
	c := &Cluster{Client: fakeAPIServer(nil, claim("a", "data"))} // no Discovery: it would panic if asked
	if _, err := c.Objects(context.Background(), claimKind, []renderer.ObjectKey{key("a", "data")}); err != nil {
		t.Fatal(err)
	}
	_, err := c.Objects(context.Background(), renderer.GroupKind{Group: "example.com", Kind: "Widget"}, []renderer.ObjectKey{key("a", "w")})
	if err == nil || !strings.Contains(err.Error(), "no discovery client") {
		t.Errorf("error = %v, want one saying there is no discovery client", err)
	}
}

func TestDiscoveryErrors(t *testing.T) {
	server := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusForbidden)
		_, _ = w.Write([]byte(`{"kind":"Status","apiVersion":"v1","status":"Failure","reason":"Forbidden","code":403,"message":"forbidden: User \"x\" cannot get path \"/apis\""}`))
	}))
	t.Cleanup(server.Close)
	c := &Cluster{Client: fakeAPIServer(nil), Discovery: discoveryClient(t, server), Host: server.URL}
	_, err := c.Objects(context.Background(), renderer.GroupKind{Group: "example.com", Kind: "Widget"}, []renderer.ObjectKey{key("a", "w")})
	if !apierrors.IsForbidden(err) || !strings.Contains(err.Error(), "finding the resource for kind Widget.example.com at "+server.URL) ||
		!strings.Contains(err.Error(), `cannot get path "/apis"`) {
		t.Errorf("error = %v, want a forbidden one naming kind, host and path", err)
	}
	if _, err := c.ServerVersion(context.Background()); !apierrors.IsForbidden(err) {
		t.Errorf("ServerVersion error = %v, want a forbidden one", err)
	}
}

func TestServerVersion(t *testing.T) {
	server, _ := discoveryServer(t)
	c := &Cluster{Discovery: discoveryClient(t, server), Host: server.URL}
	info, err := c.ServerVersion(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if info.GitVersion != "v1.34.12" || info.Minor != "34" {
		t.Errorf("version = %+v", info)
	}
}
