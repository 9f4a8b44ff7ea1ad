/**
 * SMTP: reply parsing, streaming reply reader and the reply classifier.
 */
export { enhancedCodeOf, parseReply, type SmtpReply } from './reply.js';
export { DEFAULT_MAX_LINE_BYTES, DEFAULT_MAX_REPLY_LINES, ReplyReader, type ReplyReaderOptions } from './reply-reader.js';
export { classifyReply, explainReply, REPLY_RULES, type ReplyExplanation, type ReplyRule, type SmtpStage } from './classify.js';
