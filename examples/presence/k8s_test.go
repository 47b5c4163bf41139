package main

import (
	"encoding/json"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// manifest is the part of the Kubernetes objects the checks read.
type manifest struct {
	Kind     string `json:"kind"`
	Metadata struct {
		Name string `json:"name"`
	} `json:"metadata"`
	StringData map[string]string `json:"stringData"`
	Spec       struct {
		ClusterIP                string          `json:"clusterIP"`
		PublishNotReadyAddresses bool            `json:"publishNotReadyAddresses"`
		Selector                 json.RawMessage `json:"selector"` // a Service's labels, a StatefulSet's matchLabels
		Ports                    []struct {
			Name       string `json:"name"`
			Port       int    `json:"port"`
			TargetPort string `json:"targetPort"`
		} `json:"ports"`
		ServiceName string `json:"serviceName"`
		Replicas    int    `json:"replicas"`
		Template    struct {
			Metadata struct {
				Labels map[string]string `json:"labels"`
			} `json:"metadata"`
			Spec struct {
				Containers []struct {
					Args  []string `json:"args"`
					Ports []struct {
						Name          string `json:"name"`
						ContainerPort int    `json:"containerPort"`
					} `json:"ports"`
					Env []struct {
						Name      string `json:"name"`
						Value     string `json:"value"`
						ValueFrom *struct {
							FieldRef *struct {
								FieldPath string `json:"fieldPath"`
							} `json:"fieldRef"`
							SecretKeyRef *struct {
								Name string `json:"name"`
								Key  string `json:"key"`
							} `json:"secretKeyRef"`
						} `json:"valueFrom"`
					} `json:"env"`
					ReadinessProbe struct {
						HTTPGet struct {
							Path string `json:"path"`
							Port string `json:"port"`
						} `json:"httpGet"`
					} `json:"readinessProbe"`
				} `json:"containers"`
			} `json:"spec"`
		} `json:"template"`
	} `json:"spec"`
}

// The tour's manifests parse, and the headless service, the StatefulSet, the
// program's ports and its DNS discovery settings agree on names and ports.
func TestManifestsAgree(t *testing.T) {
	b, err := os.ReadFile("k8s/presence.json")
	if err != nil {
		t.Fatal(err)
	}
	var list struct {
		Kind  string     `json:"kind"`
		Items []manifest `json:"items"`
	}
	if err := json.Unmarshal(b, &list); err != nil {
		t.Fatalf("the manifests do not parse: %v", err)
	}
	byKind := map[string][]manifest{}
	for _, m := range list.Items {
		byKind[m.Kind] = append(byKind[m.Kind], m)
	}
	if len(byKind["StatefulSet"]) != 1 || len(byKind["Service"]) != 2 || len(byKind["Secret"]) != 1 {
		t.Fatalf("kinds %v", byKind)
	}
	set := byKind["StatefulSet"][0]
	var headless manifest
	for _, s := range byKind["Service"] {
		if s.Metadata.Name == set.Spec.ServiceName {
			headless = s
		}
	}
	if headless.Spec.ClusterIP != "None" || !headless.Spec.PublishNotReadyAddresses {
		t.Fatalf("the StatefulSet's service %q is not a headless service that publishes pods before they are ready: %+v", set.Spec.ServiceName, headless.Spec)
	}
	var selector map[string]string
	if err := json.Unmarshal(headless.Spec.Selector, &selector); err != nil {
		t.Fatal(err)
	}
	for k, v := range selector {
		if set.Spec.Template.Metadata.Labels[k] != v {
			t.Errorf("the headless service selects %s=%s, the pods are labelled %v", k, v, set.Spec.Template.Metadata.Labels)
		}
	}
	c := set.Spec.Template.Spec.Containers[0]
	ports := map[string]int{}
	for _, p := range c.Ports {
		ports[p.Name] = p.ContainerPort
	}
	if ports["dist"] != distPort || ports["http"] != httpPort {
		t.Errorf("container ports %v, the program uses dist %d and http %d", ports, distPort, httpPort)
	}
	for _, p := range headless.Spec.Ports {
		if ports[p.TargetPort] != p.Port {
			t.Errorf("headless port %s: %d to %s, which the container has at %d", p.Name, p.Port, p.TargetPort, ports[p.TargetPort])
		}
	}
	if !slices.Equal(c.Args, []string{"-listen", ":" + strconv.Itoa(distPort), "-http", ":" + strconv.Itoa(httpPort)}) {
		t.Errorf("args %v", c.Args)
	}
	env := map[string]string{}
	for _, e := range c.Env {
		switch {
		case e.ValueFrom != nil && e.ValueFrom.FieldRef != nil:
			env[e.Name] = "field:" + e.ValueFrom.FieldRef.FieldPath
		case e.ValueFrom != nil && e.ValueFrom.SecretKeyRef != nil:
			env[e.Name] = "secret:" + e.ValueFrom.SecretKeyRef.Name + "/" + e.ValueFrom.SecretKeyRef.Key
		default:
			env[e.Name] = e.Value
		}
	}
	// The node is named after its pod IP, which is what the DNS records of
	// the headless service hold: discovery finds gotp@<pod IP> at distPort.
	if env[podIPEnv] != "field:status.podIP" {
		t.Errorf("%s = %q, want the pod IP", podIPEnv, env[podIPEnv])
	}
	if want := headless.Metadata.Name + "."; !strings.HasPrefix(env[dnsEnv], want) || !strings.HasSuffix(env[dnsEnv], ".svc.cluster.local") {
		t.Errorf("%s = %q, want the headless service's name %s<namespace>.svc.cluster.local", dnsEnv, env[dnsEnv], want)
	}
	secret := byKind["Secret"][0]
	ref := strings.TrimPrefix(env[cookieEnv], "secret:")
	if name, key, _ := strings.Cut(ref, "/"); name != secret.Metadata.Name || secret.StringData[key] == "" {
		t.Errorf("%s comes from %q, which the Secret %s does not hold", cookieEnv, ref, secret.Metadata.Name)
	}
	if p := c.ReadinessProbe.HTTPGet; p.Path != "/healthz" || p.Port != "http" {
		t.Errorf("readiness probe %+v, want the program's /healthz on http", p)
	}
}
