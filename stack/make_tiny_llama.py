"""Make a tiny random Llama (head_dim 64) with a byte-level BPE tokenizer, locally: no hub download.

    python3 make_tiny_llama.py OUTDIR

About 2 MB; vLLM loads it on CPU and generates (gibberish: the weights are random).
"""

import sys

from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
from transformers import LlamaConfig, LlamaForCausalLM, PreTrainedTokenizerFast

out = sys.argv[1]
corpus = ["the quick brown fox jumps over the lazy dog", "triton inference server with vllm backend",
          "hello world, this is a tiny model for tests"] * 50
tokenizer = Tokenizer(models.BPE(unk_token=None))
tokenizer.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
tokenizer.decoder = decoders.ByteLevel()
tokenizer.train_from_iterator(corpus, trainers.BpeTrainer(vocab_size=512, special_tokens=["<s>", "</s>"],
                                                          initial_alphabet=pre_tokenizers.ByteLevel.alphabet()))
fast = PreTrainedTokenizerFast(tokenizer_object=tokenizer, bos_token="<s>", eos_token="</s>")
fast.save_pretrained(out)
config = LlamaConfig(vocab_size=len(fast), hidden_size=128, intermediate_size=256, num_hidden_layers=2,
                     num_attention_heads=2, num_key_value_heads=2, max_position_embeddings=512,
                     bos_token_id=fast.bos_token_id, eos_token_id=fast.eos_token_id, torch_dtype="float32")
LlamaForCausalLM(config).save_pretrained(out, safe_serialization=True)
print(f"tiny llama in {out}")
