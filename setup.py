from setuptools import find_packages, setup

setup(
    name="espnet2_unlearn",
    version="0.1.0",
    description="Forget-set-only machine unlearning for ESPnet speech emotion recognition",
    packages=find_packages(include=["espnet2_unlearn", "espnet2_unlearn.*"]),
    python_requires=">=3.11,<3.12",
    install_requires=[
        # These three only install together at these versions on Python 3.11:
        # torchaudio 2.11 imports with torch 2.11 only, and espnet 202511 is
        # the newest release for 3.11.
        "torch==2.11.0",
        "torchaudio==2.11.0",
        "espnet==202511",
        "torcheval==0.0.7",
        "tensorboard==2.21.0",
        "kaldiio==2.18.1",
        "sentencepiece==0.2.0",
        "pyyaml==6.0.3",
        "matplotlib==3.11.2",
        "tqdm==4.70.1",
        "soundfile==0.14.0",
        "scipy==1.17.1",
        "numpy==2.4.6",
        "scikit-learn==1.9.1",
    ],
    extras_require={
        # ESPnet's s3prl front-end over local weights (WavLM, HuBERT, wav2vec 2.0);
        # with torchaudio 2.11 it needs tools/s3prl_compat on PYTHONPATH.
        # s3prl wants setuptools >= 65.5.1, espnet < 74.
        "ssl": ["s3prl==0.4.18", "transformers==5.24.0", "setuptools>=65.5.1,<74"],
        "test": ["pytest==9.2.0", "s3prl==0.4.18", "transformers==5.24.0", "setuptools>=65.5.1,<74"],
    },
)
