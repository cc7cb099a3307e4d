package notifier

import (
	"strings"
)

// discordMaxText is Discord's bound of an embed's description, which the
// Slack attachment's text becomes.
const discordMaxText = 4096

// newDiscord builds a Discord notifier: the Slack payload, posted to the
// webhook's Slack-compatible endpoint (<webhook>/slack). Discord shows an
// attachment as an embed, and mentions in an embed never ping.
func newDiscord(s Settings) (Notifier, error) {
	u, err := s.address("discord", "")
	if err != nil {
		return nil, err
	}
	if err := checkChannel("discord", s.Channel, 81); err != nil {
		return nil, err
	}
	if !strings.HasSuffix(u.Path, "/slack") {
		u.Path = strings.TrimSuffix(u.Path, "/") + "/slack"
		u.RawPath = ""
	}
	return &slack{s: s, url: u.String(), maxText: discordMaxText, esc: escapeHTML}, nil
}
