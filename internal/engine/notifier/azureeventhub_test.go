package notifier

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"
)

const (
	sasKeyName = "flux-send"
	sasKey     = "c2FzLWtleS1ub3QtcmVhbC1idXQtc2VjcmV0PQ=="
)

var sasNow = time.Date(2026, 12, 7, 10, 30, 0, 0, time.UTC)

// eventHubFake is an event hub's REST endpoint over https.
func eventHubFake(t *testing.T) (*fakeService, string, *http.Client) {
	fake, srv := newTLSFake(t)
	fake.answerWith(http.StatusCreated, "")
	return fake, strings.TrimPrefix(srv.URL, "https://"), srv.Client()
}

func connectionString(host string) string {
	return "Endpoint=sb://" + host + "/;SharedAccessKeyName=" + sasKeyName + ";SharedAccessKey=" + sasKey + ";EntityPath=flux-events"
}

func TestAzureEventHubSendsWithASASToken(t *testing.T) {
	fake, host, client := eventHubFake(t)
	n, err := New(Settings{Type: "azureeventhub", Address: connectionString(host), AddressFromSecret: true, Client: client})
	if err != nil {
		t.Fatal(err)
	}
	n.(*eventHubNotifier).now = func() time.Time { return sasNow }
	event := testEvent("error")
	if err := n.Post(context.Background(), event); err != nil {
		t.Fatal(err)
	}
	r := fake.only(t)
	// The SAS token names the host, which changes with each run: it is
	// checked here, the rest against the golden file.
	golden(t, "azureeventhub-sas", r, "Content-Type")
	checkSAS(t, r.Header.Get("Authorization"), "https://"+host+"/flux-events")
	want, _ := json.Marshal(event)
	if string(r.Body) != string(want) {
		t.Errorf("body %s, want the Event JSON", r.Body)
	}
}

// checkSAS verifies a SharedAccessSignature as Event Hubs does: the
// resource, the key's name, an expiry an hour on, and the HMAC-SHA256 of
// "<url-encoded resource>\n<expiry>" keyed with the key.
func checkSAS(t *testing.T, authorization, resource string) {
	t.Helper()
	fields, ok := strings.CutPrefix(authorization, "SharedAccessSignature ")
	if !ok {
		t.Fatalf("Authorization %q is not a SharedAccessSignature", authorization)
	}
	q, err := url.ParseQuery(fields)
	if err != nil {
		t.Fatal(err)
	}
	if q.Get("sr") != resource || q.Get("skn") != sasKeyName || q.Get("se") != strconv.FormatInt(sasNow.Add(time.Hour).Unix(), 10) {
		t.Errorf("SAS fields %v", q)
	}
	mac := hmac.New(sha256.New, []byte(sasKey))
	mac.Write([]byte(url.QueryEscape(q.Get("sr")) + "\n" + q.Get("se")))
	sig, _ := base64.StdEncoding.DecodeString(q.Get("sig"))
	if !hmac.Equal(sig, mac.Sum(nil)) {
		t.Errorf("the SAS signature %q does not verify", q.Get("sig"))
	}
}

// Flux's JWT mode: the token (an Azure AD token) as Bearer, the channel
// the namespace, the address the event hub.
func TestAzureEventHubSendsWithAToken(t *testing.T) {
	fake, host, client := eventHubFake(t)
	n, err := New(Settings{Type: "azureeventhub", Address: "flux-events", Channel: host, Token: "eyJhbGciOiJSUzI1NiJ9.eyJhdWQiOiJldmVudGh1YnMifQ.c2ln", Client: client})
	if err != nil {
		t.Fatal(err)
	}
	if err := n.Post(context.Background(), testEvent("info")); err != nil {
		t.Fatal(err)
	}
	golden(t, "azureeventhub-jwt", fake.only(t), "Authorization", "Content-Type")

	// A SAS token given whole is sent as it is.
	sas := "SharedAccessSignature sr=x&sig=y&se=1&skn=z"
	n, err = New(Settings{Type: "azureeventhub", Address: "flux-events", Channel: host, Token: sas, Client: client})
	if err != nil {
		t.Fatal(err)
	}
	if err := n.Post(context.Background(), testEvent("info")); err != nil {
		t.Fatal(err)
	}
	if got := fake.received()[1].Header.Get("Authorization"); got != sas {
		t.Errorf("Authorization %q", got)
	}
}

func TestAzureEventHubFailures(t *testing.T) {
	fake, host, client := eventHubFake(t)
	n, err := New(Settings{Type: "azureeventhub", Address: connectionString(host), AddressFromSecret: true, Client: client})
	if err != nil {
		t.Fatal(err)
	}
	for status, retry := range map[int]bool{
		http.StatusUnauthorized:        false,
		http.StatusForbidden:           false,
		http.StatusServiceUnavailable:  true,
		http.StatusInternalServerError: true,
	} {
		fake.answerWith(status, `<Error><Detail>signature for key `+sasKey+` refused</Detail></Error>`)
		err := n.Post(context.Background(), testEvent("error"))
		if err == nil {
			t.Fatalf("%d accepted", status)
		}
		if got, _ := Retryable(err); got != retry {
			t.Errorf("%d: Retryable(%v) = %v", status, err, got)
		}
		for _, secret := range []string{sasKey, "SharedAccessKey=", "/flux-events/messages"} {
			if strings.Contains(err.Error(), secret) {
				t.Errorf("%d: error %q shows %q", status, err, secret)
			}
		}
	}
}

func TestAzureEventHubSettingsRefused(t *testing.T) {
	for _, c := range []struct {
		name string
		s    Settings
		want string
	}{
		{"nothing", Settings{}, "no credentials"},
		{"no entity path", Settings{Address: "Endpoint=sb://ns.servicebus.windows.net/;SharedAccessKeyName=k;SharedAccessKey=" + sasKey}, "no EntityPath"},
		{"no key", Settings{Address: "Endpoint=sb://ns.servicebus.windows.net/;SharedAccessKeyName=k;EntityPath=hub"}, "SharedAccessKey"},
		{"https endpoint", Settings{Address: "Endpoint=https://ns.servicebus.windows.net/;SharedAccessKeyName=k;SharedAccessKey=" + sasKey + ";EntityPath=hub"}, "Endpoint"},
		{"endpoint with path", Settings{Address: "Endpoint=sb://evil.example.com@ns.servicebus.windows.net/;SharedAccessKeyName=k;SharedAccessKey=" + sasKey + ";EntityPath=hub"}, "Endpoint"},
		{"malformed part", Settings{Address: "Endpoint=sb://ns.servicebus.windows.net/;" + strings.TrimRight(sasKey, "=")}, "Key=Value"},
		{"hub injection", Settings{Address: "Endpoint=sb://ns.servicebus.windows.net/;SharedAccessKeyName=k;SharedAccessKey=" + sasKey + ";EntityPath=../admin?x"}, "not an event hub name"},
		{"token without namespace", Settings{Address: "hub", Token: "jwt"}, "spec.channel"},
		{"namespace injection", Settings{Address: "hub", Channel: "evil.example.com/x?", Token: "jwt"}, "spec.channel"},
		{"token without hub", Settings{Channel: "my-namespace", Token: "jwt"}, "spec.address"},
	} {
		c.s.Type = "azureeventhub"
		_, err := New(c.s)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: New = %v, want an error saying %q", c.name, err, c.want)
			continue
		}
		if strings.Contains(err.Error(), sasKey) {
			t.Errorf("%s: error %q shows the key", c.name, err)
		}
	}
	// A namespace name becomes its host in Azure's public cloud.
	n, err := New(Settings{Type: "azureeventhub", Address: "flux-events", Channel: "my-namespace", Token: "jwt"})
	if err != nil {
		t.Fatal(err)
	}
	if got := n.(*eventHubNotifier).resource(); got != "https://my-namespace.servicebus.windows.net/flux-events" {
		t.Errorf("resource %s", got)
	}
}

// Whatever the Secret's address holds, the notifier sends only to a host
// and an event hub name, and no error quotes the key.
func FuzzAzureEventHubConnectionString(f *testing.F) {
	f.Add(connectionString("ns.servicebus.windows.net"))
	f.Add("Endpoint=sb://ns.servicebus.windows.net/;SharedAccessSignature=SharedAccessSignature sr=a&sig=b;EntityPath=hub")
	f.Add("Endpoint=sb://a@b/;SharedAccessKeyName=k;SharedAccessKey=secretsecret;EntityPath=../x")
	f.Add("endpoint=;;==;EntityPath=h%2F")
	f.Fuzz(func(t *testing.T, address string) {
		n, err := New(Settings{Type: "azureeventhub", Address: address, AddressFromSecret: true})
		if err != nil {
			for _, part := range strings.Split(address, ";") {
				if k, v, _ := strings.Cut(part, "="); strings.EqualFold(strings.TrimSpace(k), "SharedAccessKey") && len(strings.TrimSpace(v)) >= 8 && strings.Contains(err.Error(), strings.TrimSpace(v)) {
					t.Fatalf("error %q shows the key", err)
				}
			}
			return
		}
		e := n.(*eventHubNotifier)
		u, err := url.Parse(e.resource() + "/messages")
		if err != nil || u.Host != e.host || u.Path != "/"+e.hub+"/messages" || u.RawQuery != "" || u.User != nil {
			t.Fatalf("address %q sends to %s", address, e.resource())
		}
	})
}
