package notifier

// rocketMaxText is Rocket.Chat's default bound of a message
// (Message_MaxAllowedSize).
const rocketMaxText = 5000

// newRocket builds a Rocket.Chat notifier: an incoming webhook takes
// Slack's payload (channel, username, attachments). Rocket.Chat renders
// Markdown, not Slack's entities: instead of escaping them, each @ is
// broken so that @all or @here in a message pages no one.
func newRocket(s Settings) (Notifier, error) {
	u, err := s.address("rocket", "")
	if err != nil {
		return nil, err
	}
	if err := checkChannel("rocket", s.Channel, 256); err != nil {
		return nil, err
	}
	return &slack{s: s, url: u.String(), maxText: rocketMaxText, esc: neutralizeMentions}, nil
}
