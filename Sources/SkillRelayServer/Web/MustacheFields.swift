import Mustache

// The renderer finds a template's names in these structs by asking them, not through Mirror: Mirror reflects every field
// of every struct on the context stack for each name it looks up, and a page of 50 people with their skills looks up
// tens of thousands of names (figure 8: My team for the CEO of a 100k company took 0.8 s, nearly all of it in Mirror).
// An empty optional answers nil, as the renderer's Mirror lookup does, and the name is looked for further out.

extension Nav: MustacheParent {
    func child(named name: String) -> Any? {
        switch name {
        case "name": self.name
        case "handle": handle
        case "csrf": csrf
        case "isManager": isManager
        case "isAdmin": isAdmin
        case "onAsk": onAsk
        case "onInbox": onInbox
        case "onTeam": onTeam
        case "onAdmin": onAdmin
        default: nil
        }
    }
}

extension Page: MustacheParent {
    func child(named name: String) -> Any? {
        switch name {
        case "title": title
        case "nav": nav
        case "notice": notice
        case "content": content
        default: nil
        }
    }
}

extension TeamPages.Level: MustacheParent {
    func child(named name: String) -> Any? {
        switch name {
        case "value": value
        case "current": current
        default: nil
        }
    }
}

extension TeamPages.SkillItem: MustacheParent {
    func child(named name: String) -> Any? {
        switch name {
        case "topicName": topicName
        case "topicSlug": topicSlug
        case "sourceText": sourceText
        case "levels": levels
        default: nil
        }
    }
}

extension TeamPages.Member: MustacheParent {
    func child(named name: String) -> Any? {
        switch name {
        case "handle": handle
        case "name": self.name
        case "peopleBelow": peopleBelow
        case "teamLink": teamLink
        case "workingTime": workingTime
        case "hasSkills": hasSkills
        case "skills": skills
        default: nil
        }
    }
}

extension TeamPages.TeamContent: MustacheParent {
    func child(named name: String) -> Any? {
        switch name {
        case "managerName": managerName
        case "managerHandle": managerHandle
        case "isMe": isMe
        case "peopleBelow": peopleBelow
        case "hasUnder": hasUnder
        case "hasBreadcrumbs": hasBreadcrumbs
        case "breadcrumbs": breadcrumbs
        case "search": search
        case "topic": topic
        case "levels": levels
        case "isFiltered": isFiltered
        case "clearLink": clearLink
        case "everyoneLink": everyoneLink
        case "heading": heading
        case "members": members
        case "isEmpty": isEmpty
        case "previousLink": previousLink
        case "nextLink": nextLink
        case "back": back
        case "unreachable": unreachable
        case "suggestions": suggestions
        default: nil
        }
    }
}

extension TeamPages.SuggestionsSection: MustacheParent {
    func child(named name: String) -> Any? {
        switch name {
        case "items": items
        case "back": back
        case "nextLink": nextLink
        default: nil
        }
    }
}

extension TeamPages.SuggestionItem: MustacheParent {
    func child(named name: String) -> Any? {
        switch name {
        case "id": id
        case "handle": handle
        case "name": self.name
        case "topicName": topicName
        case "topicSlug": topicSlug
        case "isSuggested": isSuggested
        case "isStale": isStale
        case "evidenceText": evidenceText
        case "currentLevel": currentLevel
        case "levels": levels
        default: nil
        }
    }
}
