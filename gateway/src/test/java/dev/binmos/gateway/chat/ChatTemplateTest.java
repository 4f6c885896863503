package dev.binmos.gateway.chat;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.binmos.gateway.GatewayException;
import dev.binmos.gateway.chat.ChatTemplate.Message;
import java.util.List;
import org.junit.jupiter.api.Test;

class ChatTemplateTest {

    private static final List<Message> CONVERSATION = List.of(new Message("system", "Be brief."),
            new Message("user", "Hi"), new Message("assistant", "Hello."), new Message("user", "A story?"));

    /** Shapes of the Jinja templates models ship (abridged): recognised by their markers. */
    @Test
    void recognisesTemplateFamilies() {
        assertEquals(ChatTemplate.CHATML, ChatTemplate.recognize(
                "{% for message in messages %}{{'<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>'}}"));
        assertEquals(ChatTemplate.LLAMA2, ChatTemplate.recognize(
                "{{ bos_token + '[INST] ' + content.strip() + ' [/INST]' }}{% if system %}<<SYS>>{% endif %}"));
        assertEquals(ChatTemplate.PLAIN, ChatTemplate.recognize(""));
        assertEquals(ChatTemplate.PLAIN, ChatTemplate.recognize("{% for m in messages %}<|user|>{{ m.content }}{% endfor %}"));
    }

    @Test
    void llama2FoldsTheSystemMessageIntoTheFirstTurn() {
        assertEquals("[INST] <<SYS>>\nBe brief.\n<</SYS>>\n\nHi [/INST] Hello. [INST] A story? [/INST]",
                ChatTemplate.LLAMA2.apply(CONVERSATION).prompt());
        assertEquals(List.of(), ChatTemplate.LLAMA2.apply(CONVERSATION).stops());
    }

    @Test
    void llama2WantsAlternatingRolesEndingWithTheUser() {
        assertThrows(GatewayException.class, () -> ChatTemplate.LLAMA2.apply(List.of(new Message("user", "a"),
                new Message("user", "b"))));
        assertThrows(GatewayException.class, () -> ChatTemplate.LLAMA2.apply(List.of(new Message("user", "a"),
                new Message("assistant", "b"))));
        assertThrows(GatewayException.class, () -> ChatTemplate.LLAMA2.apply(List.of(new Message("system", "a"))));
    }

    @Test
    void chatMlEndsWithTheAssistantsTurnAndStopsAtItsEnd() {
        assertEquals("<|im_start|>system\nBe brief.<|im_end|>\n<|im_start|>user\nHi<|im_end|>\n"
                        + "<|im_start|>assistant\nHello.<|im_end|>\n<|im_start|>user\nA story?<|im_end|>\n<|im_start|>assistant\n",
                ChatTemplate.CHATML.apply(CONVERSATION).prompt());
        assertEquals(List.of("<|im_end|>"), ChatTemplate.CHATML.apply(CONVERSATION).stops());
    }

    @Test
    void plainIsOneLinePerMessage() {
        assertEquals("System: Be brief.\nUser: Hi\nAssistant: Hello.\nUser: A story?\nAssistant:",
                ChatTemplate.PLAIN.apply(CONVERSATION).prompt());
        assertEquals(List.of("\nUser:"), ChatTemplate.PLAIN.apply(CONVERSATION).stops());
    }
}
