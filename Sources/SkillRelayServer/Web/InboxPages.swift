import Foundation
import Hummingbird
import SkillRelayDomain

/// The specialist's side: questions delivered to me, answering and passing, my presence and pause.
struct InboxPages {
    let questions: QuestionService
    let signIn: SignInService
    let localIM: Bool
    let clock: any WallClock

    func addRoutes(to group: RouterGroup<WebRequestContext>) {
        group.get("inbox", use: inbox)
        group.get("inbox/events", use: events)
        group.post("inbox/:delivery/answer", use: answer)
        group.post("inbox/:delivery/pass", use: pass)
        group.post("inbox/:delivery/reveal", use: reveal)
        group.post("inbox/:delivery/messages", use: followUp)
        group.post("me/presence", use: setPresence)
        group.post("me/pause", use: pause)
        group.post("me/resume", use: resume)
    }

    struct PresenceChoice {
        var value: String
        var label: String
        var selected: Bool
    }

    struct Item {
        var id: String
        var topicName: String
        var text: String
        var deliveredAt: String
        var stateText: String
        var canAnswer: Bool
        /// Once their answer was relayed: revealing who they are, they and the asker.
        var reveal: RevealItem?
        /// The thread with the asker on the specialist's relayed answer, if there is one.
        var hasThread: Bool
        var messages: [ThreadMessage]
    }

    struct InboxContent {
        var presenceChoices: [PresenceChoice]
        var localIM: Bool
        var pausedUntil: String?
        var hasItems: Bool
        var items: [Item]
    }

    static let presenceLabels: [(Presence, String)] = [
        (.available, "Available: send me questions"), (.away, "Away"), (.busy, "Busy: do not disturb"), (.offline, "Offline"),
    ]

    @Sendable func inbox(_ request: Request, context: WebRequestContext) async throws -> Response {
        let caller = try context.requireUser().caller
        let status = try await signIn.status(of: caller)
        let items = try await questions.inbox(of: caller, limit: 50).map { item in
            Item(
                id: item.id, topicName: item.topic.name, text: item.text, deliveredAt: WebRenderer.format(item.deliveredAt),
                stateText: Self.describe(item), canAnswer: item.state == .pending && item.questionStatus == .open,
                reveal: item.reveal.map { RevealItem($0, action: "/inbox/\(item.id)/reveal", other: "the colleague who asked") },
                hasThread: item.rank != nil, messages: item.followUps.map(ThreadMessage.init))
        }
        let content = InboxContent(
            presenceChoices: Self.presenceLabels.map { PresenceChoice(value: $0.0.rawValue, label: $0.1, selected: $0.0 == status.presence) },
            localIM: localIM, pausedUntil: status.pausedUntil.map(WebRenderer.format), hasItems: !items.isEmpty, items: items)
        return try WebRenderer.page("inbox", title: "Inbox", content: content, context: context, section: .inbox)
    }

    static func describe(_ item: InboxItem) -> String {
        switch item.state {
        case .answered: return "you answered"
        case .passed: return "you passed"
        case .closed: return "closed (\(item.questionStatus.rawValue))"
        case .pending: return item.questionStatus == .open ? "waiting for your answer" : "closed (\(item.questionStatus.rawValue))"
        }
    }

    /// The same stream as `GET /v1/inbox/events`, for the page's script.
    @Sendable func events(_ request: Request, context: WebRequestContext) async throws -> Response {
        try await InboxController.inboxEvents(caller: try context.requireUser().caller, questions: questions)
    }

    @Sendable func answer(_ request: Request, context: WebRequestContext) async throws -> Response {
        let delivery = try context.parameters.require("delivery")
        let outcome = try await questions.answer(delivery: delivery, text: context.form["text"] ?? "", by: try context.requireUser().caller)
        switch outcome {
        case .relayed(let rank): context.leaveNotice("Thanks! Your answer was relayed to the asker (answer \(rank)).")
        case .alreadyAnswered: context.leaveNotice("Thanks: the question already had its answers, so yours is kept but not relayed.")
        case .closed: context.leaveNotice("Thanks: the question had closed, so your answer is kept but not relayed.")
        }
        return WebRenderer.seeOther("/inbox")
    }

    @Sendable func pass(_ request: Request, context: WebRequestContext) async throws -> Response {
        try await questions.pass(delivery: try context.parameters.require("delivery"), by: try context.requireUser().caller)
        context.leaveNotice("Passed; thanks for letting us know.")
        return WebRenderer.seeOther("/inbox")
    }

    @Sendable func reveal(_ request: Request, context: WebRequestContext) async throws -> Response {
        let action = try RevealItem.requested(context)
        let change = try await questions.reveal(action, delivery: try context.parameters.require("delivery"), by: try context.requireUser().caller)
        context.leaveNotice(RevealItem.notice(action, change.specialistView, other: "the colleague who asked"))
        return WebRenderer.seeOther("/inbox")
    }

    @Sendable func setPresence(_ request: Request, context: WebRequestContext) async throws -> Response {
        guard let presence = context.form.text("status").flatMap(Presence.init(rawValue:)), presence != .unknown else {
            throw DirectoryError.invalidField("status", "must be available, away, busy or offline")
        }
        try await questions.setPresence(presence, by: try context.requireUser().caller)
        context.leaveNotice("Your presence is now \(presence.rawValue).")
        return WebRenderer.seeOther("/inbox")
    }

    @Sendable func pause(_ request: Request, context: WebRequestContext) async throws -> Response {
        guard let hours = context.form.text("hours").flatMap(Int.init), (1...720).contains(hours) else {
            throw DirectoryError.invalidField("hours", "must be a whole number of hours from 1 to 720")
        }
        let until = clock.now().addingTimeInterval(Double(hours) * 3600)
        try await questions.setPause(until: until, by: try context.requireUser().caller)
        context.leaveNotice("Paused: no questions until \(WebRenderer.format(until)).")
        return WebRenderer.seeOther("/inbox")
    }

    @Sendable func resume(_ request: Request, context: WebRequestContext) async throws -> Response {
        try await questions.setPause(until: nil, by: try context.requireUser().caller)
        context.leaveNotice("Welcome back: you get questions again.")
        return WebRenderer.seeOther("/inbox")
    }
}
