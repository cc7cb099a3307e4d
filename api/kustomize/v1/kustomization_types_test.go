package v1

import (
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func duration(d time.Duration) *metav1.Duration {
	return &metav1.Duration{Duration: d}
}

func TestGetTimeout(t *testing.T) {
	tests := []struct {
		name     string
		interval time.Duration
		timeout  *metav1.Duration
		want     time.Duration
	}{
		{name: "interval minus 30s", interval: 10 * time.Minute, want: 9*time.Minute + 30*time.Second},
		{name: "never below 30s", interval: 45 * time.Second, want: 30 * time.Second},
		{name: "explicit timeout", interval: 10 * time.Minute, timeout: duration(2 * time.Minute), want: 2 * time.Minute},
		{name: "explicit timeout below 30s", interval: 10 * time.Minute, timeout: duration(5 * time.Second), want: 30 * time.Second},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ks := &Kustomization{Spec: KustomizationSpec{
				Interval: metav1.Duration{Duration: tt.interval},
				Timeout:  tt.timeout,
			}}
			if got := ks.GetTimeout(); got != tt.want {
				t.Errorf("GetTimeout() = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestGetRetryInterval(t *testing.T) {
	ks := &Kustomization{Spec: KustomizationSpec{Interval: metav1.Duration{Duration: 10 * time.Minute}}}
	if got := ks.GetRetryInterval(); got != 10*time.Minute {
		t.Errorf("GetRetryInterval() without retryInterval = %v, want 10m", got)
	}
	ks.Spec.RetryInterval = duration(time.Minute)
	if got := ks.GetRetryInterval(); got != time.Minute {
		t.Errorf("GetRetryInterval() = %v, want 1m", got)
	}
}
