/// Everything that can go wrong with a directory request, in the domain's words; the server maps each kind to a status.
public enum DirectoryError: Error, Sendable, Equatable {
    case unauthenticated
    case forbidden(String)
    case employeeNotFound(String)
    case topicNotFound(String)
    case tokenNotFound(String)
    case skillNotFound(handle: String, topic: String)
    case handleTaken(String)
    case slugTaken(String)
    case aliasTaken(String)
    case imIDTaken(String)
    case invalidHandle(String)
    case invalidSlug(String)
    case invalidAlias(String)
    case invalidLevel(Int)
    case invalidField(String, String)
    case unknownManager(String)
    case unknownParent(String)
    case managerCycle(String)
    case topicCycle(String)
    case aliasNotFound(alias: String, topic: String)
    case lastAdmin(String)
    case questionNotFound(String)
    case deliveryNotFound(String)
    case answerNotFound(Int)
    case unknownTopic(String?)
    case ambiguousTopic([TopicReference])
    case noSpecialists(String)
    case policyViolation(String)
    case rateLimited(retryAfterSeconds: Int)
    /// Deliveries are further behind than `maxDeliveryLagSeconds`: new questions wait until they catch up.
    case overloaded(retryAfterSeconds: Int)
    case deliveryAlreadyAnswered
    case questionClosed(String)
    case invalidCallbackURL(String)
    case suggestionNotFound(String)
    case suggestionDecided(String)
    /// A bot has no identity to offer.
    case botsCannotReveal
    /// A specialist offered to reveal themselves to a bot.
    case askerIsABot
    /// A reveal on a delivery whose answer was not relayed.
    case noRelayedAnswer(String)
    /// A reveal was declined: final for that pair and that question.
    case revealDeclined
    /// A decline or a withdrawal with no offer to act on.
    case noRevealOffer
    /// A withdrawal after both agreed.
    case revealAccepted
    /// A follow-up after the question's thread closed (the question is the argument).
    case threadClosed(String)
    /// A follow-up on a delivery whose answer was not relayed: there is no conversation to continue.
    case noThread(String)

    /// How the error is to be understood, independent of any protocol.
    public enum Kind: Sendable {
        /// No or no valid credentials.
        case unauthenticated
        /// The caller is known but may not do this.
        case forbidden
        /// The thing named does not exist (or must not be revealed).
        case notFound
        /// The thing to create exists already.
        case conflict
        /// The request is well-formed but breaks a rule of the directory.
        case invalid
        /// The caller asks too often; try again later.
        case rateLimited
        /// SkillRelay cannot take more of this now; try again later.
        case overloaded
    }

    /// The error's kind.
    public var kind: Kind {
        switch self {
        case .unauthenticated: .unauthenticated
        case .forbidden, .botsCannotReveal: .forbidden
        case .askerIsABot, .noRelayedAnswer, .revealDeclined, .noRevealOffer, .revealAccepted: .conflict
        case .employeeNotFound, .topicNotFound, .tokenNotFound, .skillNotFound, .aliasNotFound, .questionNotFound, .deliveryNotFound,
            .answerNotFound, .suggestionNotFound:
            .notFound
        case .handleTaken, .slugTaken, .imIDTaken, .deliveryAlreadyAnswered, .questionClosed, .suggestionDecided,
            .threadClosed, .noThread:
            .conflict
        case .rateLimited: .rateLimited
        case .overloaded: .overloaded
        case .unknownTopic, .ambiguousTopic, .noSpecialists, .policyViolation, .invalidCallbackURL: .invalid
        case .aliasTaken, .invalidHandle, .invalidSlug, .invalidAlias, .invalidLevel, .invalidField, .unknownManager,
            .unknownParent, .managerCycle, .topicCycle, .lastAdmin:
            .invalid
        }
    }

    /// A stable, machine-readable code for clients.
    public var code: String {
        switch self {
        case .unauthenticated: "unauthenticated"
        case .forbidden: "forbidden"
        case .employeeNotFound: "employee_not_found"
        case .topicNotFound: "topic_not_found"
        case .tokenNotFound: "token_not_found"
        case .skillNotFound: "skill_not_found"
        case .aliasNotFound: "alias_not_found"
        case .handleTaken: "handle_taken"
        case .slugTaken: "slug_taken"
        case .aliasTaken: "alias_taken"
        case .imIDTaken: "im_id_taken"
        case .invalidHandle: "invalid_handle"
        case .invalidSlug: "invalid_slug"
        case .invalidAlias: "invalid_alias"
        case .invalidLevel: "invalid_level"
        case .invalidField: "invalid_field"
        case .unknownManager: "unknown_manager"
        case .unknownParent: "unknown_parent"
        case .managerCycle: "manager_cycle"
        case .topicCycle: "topic_cycle"
        case .lastAdmin: "last_admin"
        case .questionNotFound: "question_not_found"
        case .deliveryNotFound: "delivery_not_found"
        case .answerNotFound: "answer_not_found"
        case .unknownTopic: "unknown_topic"
        case .ambiguousTopic: "ambiguous_topic"
        case .noSpecialists: "no_specialists"
        case .policyViolation: "policy_violation"
        case .rateLimited: "rate_limited"
        case .overloaded: "overloaded"
        case .deliveryAlreadyAnswered: "already_answered_by_you"
        case .questionClosed: "question_closed"
        case .invalidCallbackURL: "invalid_callback_url"
        case .suggestionNotFound: "suggestion_not_found"
        case .suggestionDecided: "suggestion_decided"
        case .botsCannotReveal: "bots_cannot_reveal"
        case .askerIsABot: "asker_is_a_bot"
        case .noRelayedAnswer: "no_relayed_answer"
        case .revealDeclined: "reveal_declined"
        case .noRevealOffer: "no_reveal_offer"
        case .revealAccepted: "reveal_accepted"
        case .threadClosed: "thread_closed"
        case .noThread: "no_thread"
        }
    }

    /// A sentence a person can act on.
    public var message: String {
        switch self {
        case .unauthenticated: "A valid bearer token is required."
        case .forbidden(let why): why
        case .employeeNotFound(let handle): "No employee with handle '\(handle)'."
        case .topicNotFound(let topic): "No topic with slug or alias '\(topic)'."
        case .tokenNotFound(let id): "No token with id '\(id)'."
        case .skillNotFound(let handle, let topic): "'\(handle)' has no skill in '\(topic)'."
        case .aliasNotFound(let alias, let topic): "'\(alias)' is not an alias of '\(topic)'."
        case .handleTaken(let handle): "The handle '\(handle)' is already taken."
        case .slugTaken(let slug): "The slug '\(slug)' is already a topic or an alias."
        case .aliasTaken(let alias): "The alias '\(alias)' is already a topic's slug or alias."
        case .imIDTaken(let imID): "The IM id '\(imID)' already belongs to another employee."
        case .invalidHandle(let handle): "'\(handle)' is not a valid handle: use 1 to 64 of a-z, 0-9, '.', '_' and '-'."
        case .invalidSlug(let slug): "'\(slug)' is not a valid slug: use 1 to 64 of a-z, 0-9 and '-', starting with a letter or digit."
        case .invalidAlias(let alias): "'\(alias)' is not a valid alias: use 1 to 64 of a-z, 0-9 and '-', starting with a letter or digit."
        case .invalidLevel(let level): "Level \(level) is out of range: levels run from 1 to 5."
        case .invalidField(let field, let why): "'\(field)' \(why)."
        case .unknownManager(let handle): "The manager '\(handle)' is not in the directory."
        case .unknownParent(let slug): "The parent topic '\(slug)' does not exist."
        case .managerCycle(let handle): "Making that change would put '\(handle)' above themselves in the org chart."
        case .topicCycle(let slug): "Making that change would make '\(slug)' its own ancestor."
        case .lastAdmin(let handle): "'\(handle)' is the last active admin; make someone else admin first."
        case .questionNotFound(let id): "No question '\(id)'."
        case .deliveryNotFound(let id): "No question '\(id)' in your inbox."
        case .answerNotFound(let rank): "The question has no relayed answer \(rank)."
        case .unknownTopic(let topic?): "No topic with slug or alias '\(topic)'."
        case .unknownTopic(nil): "No topic matches the question's text; name a topic."
        case .ambiguousTopic(let topics):
            "The text fits several topics; ask again naming one of: \(topics.map(\.slug).joined(separator: ", "))."
        case .noSpecialists(let topic): "Nobody is tagged with '\(topic)' yet."
        case .policyViolation(let rule): "The text breaks the content policy (\(rule)); remove it and try again."
        case .rateLimited(let seconds): "Too many questions or follow-ups in a minute; try again in \(seconds) s."
        case .overloaded(let seconds):
            "Questions are waiting to be delivered; SkillRelay takes new ones again once they are out. Try again in \(seconds) s."
        case .deliveryAlreadyAnswered: "You have already answered this question."
        case .questionClosed(let id): "The question '\(id)' is closed."
        case .invalidCallbackURL(let url): "'\(url)' is not an http or https URL."
        case .suggestionNotFound(let id): "No suggestion '\(id)' about anyone below you."
        case .suggestionDecided(let id): "The suggestion '\(id)' has already been decided."
        case .botsCannotReveal: "A bot has no identity to reveal; only people can introduce themselves."
        case .askerIsABot: "This question was asked by a bot, which cannot reveal itself; there is nobody to introduce yourself to."
        case .noRelayedAnswer(let id): "Your answer to '\(id)' was not relayed to the asker, so there is nobody to introduce yourself to."
        case .revealDeclined: "The offer to reveal was declined; that is final for this answer."
        case .noRevealOffer: "There is no offer from the other side to decline, and none of yours to withdraw."
        case .revealAccepted: "Both sides already agreed and know who the other is; that cannot be taken back."
        case .threadClosed(let id): "The conversation on question '\(id)' is closed: follow-ups end a while after the question closes."
        case .noThread(let id): "There is no conversation on '\(id)': only an answer relayed to the asker starts one."
        }
    }
}
