package dev.binmos.gateway.chat;

import dev.binmos.gateway.GatewayException;
import java.util.List;

/**
 * Renders chat messages into the prompt text the model was trained on. The gateway does not run Jinja: it
 * recognises the two common template families by their markers in the model's {@code tokenizer.chat_template} and
 * renders them itself; a model without a template (or with an unrecognised one) gets {@link #PLAIN}.
 *
 * <p>The prompt is text, and the tokenizer does not turn special-token text into special tokens. So BOS comes
 * from the router (it starts every new session with it), and EOS/BOS between Llama-2 turns are left out.
 */
public enum ChatTemplate {

    /** Llama-2 chat: {@code [INST] <<SYS>>\nsystem\n<</SYS>>\n\nuser [/INST] answer [INST] user [/INST]}. */
    LLAMA2(List.of()) {
        @Override
        String render(List<Message> messages) {
            int first = 0;
            String system = null;
            if (messages.getFirst().role().equals("system")) {
                system = messages.getFirst().content().strip();
                first = 1;
            }
            StringBuilder out = new StringBuilder();
            for (int i = first; i < messages.size(); i++) {
                Message m = messages.get(i);
                boolean userTurn = (i - first) % 2 == 0;
                if (!m.role().equals(userTurn ? "user" : "assistant")) {
                    throw GatewayException.invalid("messages", "this model's chat template needs the roles to alternate "
                            + "user/assistant/user/... after an optional system message; messages[" + i + "] is " + m.role());
                }
                if (userTurn) {
                    String content = m.content().strip();
                    if (system != null) {
                        content = "<<SYS>>\n" + system + "\n<</SYS>>\n\n" + content;
                        system = null;
                    }
                    out.append(out.isEmpty() ? "" : " ").append("[INST] ").append(content).append(" [/INST]");
                } else {
                    out.append(' ').append(m.content().strip());
                }
            }
            if ((messages.size() - first) % 2 == 0) {
                throw GatewayException.invalid("messages", "the last message must be from the user");
            }
            return out.toString();
        }
    },

    /** ChatML: {@code <|im_start|>role\ncontent<|im_end|>\n} per message, then {@code <|im_start|>assistant\n}. */
    CHATML(List.of("<|im_end|>")) {
        @Override
        String render(List<Message> messages) {
            StringBuilder out = new StringBuilder();
            for (Message m : messages) {
                out.append("<|im_start|>").append(m.role()).append('\n').append(m.content()).append("<|im_end|>\n");
            }
            return out.append("<|im_start|>assistant\n").toString();
        }
    },

    /** The documented default: {@code Role: content} lines, then {@code Assistant:}; stops where a user line would start. */
    PLAIN(List.of("\nUser:")) {
        @Override
        String render(List<Message> messages) {
            StringBuilder out = new StringBuilder();
            for (Message m : messages) {
                out.append(Character.toUpperCase(m.role().charAt(0))).append(m.role().substring(1)).append(": ")
                        .append(m.content()).append('\n');
            }
            return out.append("Assistant:").toString();
        }
    };

    /** Roles a chat message may have. */
    public static final List<String> ROLES = List.of("system", "user", "assistant");

    private final List<String> stops;

    ChatTemplate(List<String> stops) {
        this.stops = stops;
    }

    /** One chat message; role is one of {@link #ROLES}. */
    public record Message(String role, String content) {
    }

    /** The prompt text, and stop strings that end the assistant's turn (added to the request's own). */
    public record Rendered(String prompt, List<String> stops) {
    }

    /** The family of a model's Jinja chat template (empty: none). */
    public static ChatTemplate recognize(String jinja) {
        if (jinja.contains("<|im_start|>")) {
            return CHATML;
        }
        if (jinja.contains("[INST]")) {
            return LLAMA2;
        }
        return PLAIN;
    }

    /** @param messages at least one */
    public Rendered apply(List<Message> messages) {
        return new Rendered(render(messages), stops);
    }

    abstract String render(List<Message> messages);
}
