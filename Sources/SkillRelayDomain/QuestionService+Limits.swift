extension QuestionService {
    /// How many answers a question gets when the asker does not say (K).
    public var defaultMaxAnswers: Int { settings.defaultMaxAnswers }

    /// The longest question or answer, in characters.
    public var maxTextLength: Int { settings.maxTextLength }
}
