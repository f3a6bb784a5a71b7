// Package handlers is the Azure Functions custom-handler layer: it decodes the
// host's invocation envelopes, calls the core in internal/, and answers in the
// host's response shape. It holds no business rules.
package handlers

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// InvokeRequest is the body the Functions host POSTs to /<FunctionName>.
type InvokeRequest struct {
	Data     map[string]json.RawMessage `json:"Data"`
	Metadata map[string]json.RawMessage `json:"Metadata"`
}

// InvokeResponse is what the handler answers. Outputs are keyed by output
// binding name; each Logs entry is logged by the host under the invocation.
type InvokeResponse struct {
	Outputs     map[string]any `json:"Outputs"`
	Logs        []string       `json:"Logs"`
	ReturnValue any            `json:"ReturnValue"`
}

// TimerInfo is the timer trigger's Data value.
type TimerInfo struct {
	Schedule struct {
		AdjustForDST bool `json:"AdjustForDST"`
	} `json:"Schedule"`
	ScheduleStatus *struct {
		Last        string `json:"Last"`
		Next        string `json:"Next"`
		LastUpdated string `json:"LastUpdated"`
	} `json:"ScheduleStatus"`
	IsPastDue bool `json:"IsPastDue"`
}

// SysMetadata is Metadata.sys, present on every invocation.
type SysMetadata struct {
	MethodName string `json:"MethodName"`
	UtcNow     string `json:"UtcNow"`
	RandGuid   string `json:"RandGuid"`
}

// QueueDelivery is what the handler needs from a queue or Service Bus
// trigger's Metadata.
type QueueDelivery struct {
	ID           string
	DequeueCount int64
	InsertedAt   time.Time
}

// TriggerPayload returns the bytes of a trigger's Data value. The host sends a
// message body as a JSON object, a JSON string, or a JSON string holding a
// quoted string, depending on trigger and version; all three are accepted.
func TriggerPayload(raw json.RawMessage) ([]byte, error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || bytes.Equal(raw, []byte("null")) {
		return nil, fmt.Errorf("the trigger value is missing")
	}
	if raw[0] == '{' || raw[0] == '[' {
		return raw, nil
	}
	var s string
	if err := json.Unmarshal(raw, &s); err != nil {
		return nil, fmt.Errorf("the trigger value is neither JSON nor a JSON string: %w", err)
	}
	if t := strings.TrimSpace(s); len(t) > 1 && t[0] == '"' {
		var inner string
		if err := json.Unmarshal([]byte(t), &inner); err == nil {
			return []byte(inner), nil
		}
	}
	return []byte(s), nil
}

// MetaString decodes a Metadata value that the host may have JSON-encoded a
// second time ("\"abc\"").
func MetaString(raw json.RawMessage) string {
	var s string
	if err := json.Unmarshal(raw, &s); err != nil {
		return strings.TrimSpace(string(raw))
	}
	var inner string
	if len(s) > 1 && s[0] == '"' && json.Unmarshal([]byte(s), &inner) == nil {
		return inner
	}
	return s
}

// MetaInt decodes a Metadata number sent as a number or as a string.
func MetaInt(raw json.RawMessage) (int64, bool) {
	if len(raw) == 0 {
		return 0, false
	}
	n, err := strconv.ParseInt(MetaString(raw), 10, 64)
	return n, err == nil
}

// Delivery reads the delivery metadata of a Storage queue trigger
// (Id, DequeueCount, InsertionTime) or a Service Bus trigger (MessageId,
// DeliveryCount, EnqueuedTimeUtc).
func Delivery(meta map[string]json.RawMessage) QueueDelivery {
	var d QueueDelivery
	if v, ok := meta["Id"]; ok {
		d.ID = MetaString(v)
	} else if v, ok := meta["MessageId"]; ok {
		d.ID = MetaString(v)
	}
	if n, ok := MetaInt(meta["DequeueCount"]); ok {
		d.DequeueCount = n
	} else if n, ok := MetaInt(meta["DeliveryCount"]); ok {
		d.DequeueCount = n
	}
	if d.DequeueCount < 1 {
		d.DequeueCount = 1
	}
	for _, k := range []string{"InsertionTime", "EnqueuedTimeUtc"} {
		if v, ok := meta[k]; ok {
			if t, err := time.Parse(time.RFC3339Nano, MetaString(v)); err == nil {
				d.InsertedAt = t
				break
			}
			if t, err := time.Parse("2006-01-02T15:04:05.9999999", MetaString(v)); err == nil {
				d.InsertedAt = t.UTC()
				break
			}
		}
	}
	return d
}
