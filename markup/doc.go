// Package markup converts between Jira wiki markup and Telegram messages.
//
// Telegram → Jira: FromTelegram turns a message text plus its entities
// (offsets in UTF-16 code units) into wiki markup; Escape escapes plain text.
// The output follows the rules of Atlassian's wiki renderer: inline markers
// only count at word boundaries (so the "{*}x{*}" brace form is used next to
// letters), cannot span lines and cannot start or end with whitespace, and
// backslash escapes are resolved before phrases are matched.
//
// Decisions:
//   - spoiler has no wiki equivalent and is rendered as plain text: colouring
//     it would not hide anything and only adds noise to the issue;
//   - text_mention becomes a link to https://t.me/<username> when the user
//     has a username, otherwise the plain name (Jira cannot link tg:// URLs);
//   - hashtag, cashtag, bot_command, email, phone_number and custom_emoji are
//     plain text;
//   - pre with a language Jira knows becomes {code:lang}, with an unknown
//     language {code}, without a language {noformat};
//   - characters the backslash cannot protect are written as HTML numeric
//     entities, which Jira passes through: "\" as &#92;, braces as &#123; and
//     &#125; (a backslash-escaped brace is unescaped before phrases are
//     matched, so "\{*}" would turn into a bold marker), "[ ] |" inside link
//     text, and the dot of a line-leading "h1." or "bq.";
//   - Jira has no usable brace form for {{monospace}}, so inline code glued
//     to a letter or digit is written as plain text;
//   - inside phrases, characters Jira rejects there (tabs, zero-width
//     joiners, "²") are written as numeric entities;
//   - emoticons Jira would draw as icons (":)", "(y)", also when a marker
//     completes one, as a "*" between "(" and ")" does) are escaped.
//
// Jira → Telegram: ToTelegramHTML renders wiki markup into the HTML subset
// Telegram accepts (b, i, u, s, code, pre, a href, blockquote). The output is
// well formed for any input: tags are only ever opened and closed in pairs by
// the renderer and every piece of text is escaped. Phrases follow the same
// Jira rules as above, so a round trip through both functions gives back the
// text. HTML entities in wiki text are decoded as Jira's page would; the
// common emoticons ((/), (x), (y), …) become emoji; code blocks are never put
// inside a blockquote (the quote is closed around them). Truncate shortens
// such HTML to Telegram's length limit without breaking it.
package markup
