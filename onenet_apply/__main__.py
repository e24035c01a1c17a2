from onenet_apply.cli import main

main()
